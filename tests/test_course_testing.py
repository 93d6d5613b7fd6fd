"""The test-case API (minijax.course.testing) and the in-notebook self-check, in-process."""
from __future__ import annotations

import numpy as np
import pytest

import minijax.numpy as jnp
from minijax.course import selfcheck, testing
from minijax.course.testing import CheckFailure, assert_allclose, assert_equal, cases


def test_assert_allclose_accepts_close_values():
    assert_allclose(jnp.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7], dtype=np.float32))
    assert_allclose(3.0000001, 3.0)
    assert_allclose(jnp.arange(3), [0, 1, 2])


@pytest.mark.parametrize("actual, expected, pattern", [
    (jnp.ones((2, 3)), np.ones((3, 2), np.float32), r"wrong shape: expected \(3, 2\), got \(2, 3\).*reshape"),
    (jnp.ones(3), np.ones((3, 1), np.float32), r"wrong shape.*axis"),
    (np.ones(3), np.ones(3, np.float32), r"wrong dtype: expected float32, got float64.*NumPy"),
    (jnp.arange(3), np.arange(3.0).astype(np.float32), r"wrong dtype.*integer where a float"),
    (None, 1.0, r"None: did you forget a `return`"),
    (len, 1.0, r"is a function"),
    (jnp.array([1.0, 2.0, 5.0]), np.array([1.0, 2.0, 3.0], np.float32),
     r"1 of 3 values differ.*index \(2,\): expected 3.0, got 5.0"),
    (2.5, 2.0, r"expected 2.0, got 2.5"),
])
def test_assert_allclose_messages(actual, expected, pattern):
    with pytest.raises(CheckFailure, match=pattern):
        assert_allclose(actual, expected)


def test_assert_equal():
    assert_equal("a", "a")
    with pytest.raises(CheckFailure, match="expected 'b', got 'a'"):
        assert_equal("a", "b")


def test_cases_give_partial_results_and_raise_at_the_end(capsys):
    with pytest.raises(AssertionError, match="1 of 3 checks failed: second"):
        with cases("qx") as t:
            with t.case("first"):
                assert_allclose(1.0, 1.0)
            with t.case("second", hint="look again"):
                raise NotImplementedError()
            with t.case("third"):
                pass
    out = capsys.readouterr().out
    assert "qx: 2/3 checks passed" in out
    assert "[FAIL] second" in out and "not answered yet" in out and "hint: look again" in out


def test_errors_outside_a_case_count_as_a_failed_case():
    c = testing.Cases("q", quiet=True, raise_on_failure=False)
    with c as t:
        with t.case("ok"):
            pass
        raise ValueError("boom")
    assert [r["passed"] for r in c.results] == [True, False]
    assert "ValueError: boom" in c.results[1]["message"]


def test_sys_exit_in_a_case_fails_that_case_only():
    c = testing.Cases("q", quiet=True, raise_on_failure=False)
    with c as t:
        with t.case("exits"):
            raise SystemExit(3)
        with t.case("after"):
            pass
    assert [r["passed"] for r in c.results] == [False, True]
    assert "sys.exit" in c.results[0]["message"]


def test_keyboard_interrupt_stops_the_cell_but_reports_what_ran():
    reported = []
    testing._ACTIVE["reporter"] = reported.append
    try:
        with pytest.raises(KeyboardInterrupt):
            with testing.Cases("q", quiet=True) as t:
                with t.case("fast"):
                    pass
                with t.case("slow"):
                    raise KeyboardInterrupt
                with t.case("never"):
                    pass
    finally:
        testing._ACTIVE.clear()
    (c,) = reported
    assert [(r["name"], r["passed"]) for r in c.results] == [("fast", True), ("slow", False)]
    assert "time limit" in c.results[1]["message"]


def test_case_records_its_line_number():
    c = testing.Cases("q", quiet=True, raise_on_failure=False)
    with c as t:
        line = __import__("sys")._getframe().f_lineno + 1
        with t.case("here"):
            pass
    assert c.results[0]["line"] == line


def _namespace(**kw):
    ns = {"np": np, "jnp": jnp}
    ns.update(kw)
    return ns


def test_check_runs_visible_tests_and_gives_a_verdict(capsys):
    check = selfcheck.Check()
    check.chapter = "01"
    check("q1", namespace=_namespace(odd_numbers=lambda n: jnp.arange(1, 2 * n, 2)))
    out = capsys.readouterr().out
    assert check.last is True
    assert "q1 (2 points): all 2 visible checks pass" in out

    check("q1", namespace=_namespace(odd_numbers=lambda n: [1, 3, 5, 7, 9][:n]))
    out = capsys.readouterr().out
    assert check.last is False
    assert "FAIL" in out and "hint: Build it with jnp.arange" in out

    def blank(n):
        raise NotImplementedError()
    check("01/q1", namespace=_namespace(odd_numbers=blank))
    assert "not answered yet" in capsys.readouterr().out


def test_check_never_shows_hidden_tests_and_restores_grading_hooks(capsys):
    from minijax.course._visible_tests import VISIBLE_TESTS
    for chapter in VISIBLE_TESTS.values():
        for entry in chapter.values():
            assert "HIDDEN" not in entry["source"]
    marker = object()
    testing._ACTIVE["factory"] = marker
    try:
        check = selfcheck.Check()
        check("02/q2", namespace=_namespace())
    finally:
        assert testing._ACTIVE.get("factory") is marker
        testing._ACTIVE.clear()
    assert "bincount" in capsys.readouterr().out


def test_check_explains_unknown_questions():
    check = selfcheck.Check()
    with pytest.raises(ValueError, match="which chapter"):
        check("q1", namespace={})
    check.chapter = "01"
    with pytest.raises(ValueError, match="no question 'q9'"):
        check("q9", namespace={})
