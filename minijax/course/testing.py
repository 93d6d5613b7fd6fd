"""Test cases for exercise notebooks: partial credit, and messages a student understands.

A test cell in a solution notebook groups its checks into *cases*; each case is
worth an equal share of the question's points::

    from minijax.course.testing import assert_allclose, cases

    with cases("q1") as t:
        with t.case("sum_of_squares([1, 2, 3]) is 14"):
            assert_allclose(sum_of_squares(jnp.array([1.0, 2.0, 3.0])), 14.0)
        with t.case("keeps float32", hint="Do not convert to NumPy."):
            assert sum_of_squares(jnp.ones(3)).dtype == jnp.float32

A failing case does not stop the ones after it. When the ``with cases`` block
ends it prints one line per case and, if any case failed, raises
``AssertionError`` -- so the cell fails as a whole in plain Jupyter, under
nbval and under nbgrader (all-or-nothing), while ``minijax-grade`` reads the
per-case results and gives partial credit.

``assert_allclose(actual, expected)`` compares values with a tolerance and,
before that, the things a student most often gets wrong: the type (a Python
list is not an array), the shape and the dtype, each with its own message.
"""
from __future__ import annotations

import sys
import traceback

import numpy as _np

__all__ = ["assert_allclose", "assert_equal", "cases", "Cases", "CheckFailure"]

MIME = "application/vnd.minijax.cases+json"


class CheckFailure(AssertionError):
    """An assertion failure whose message is meant for the student."""


# -- assertions --------------------------------------------------------------------

def _describe(value):
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    kind = type(value).__name__
    if shape is not None and dtype is not None:
        return f"{kind} of shape {tuple(shape)} and dtype {dtype}"
    return f"{kind} {value!r}"[:200]


def _to_numpy(value, what):
    if value is None:
        raise CheckFailure(f"{what} is None: did you forget a `return` statement?")
    if callable(value) and not hasattr(value, "shape"):
        raise CheckFailure(f"{what} is a function ({getattr(value, '__name__', value)!r}), "
                           "not a value: did you forget to call it?")
    try:
        return _np.asarray(value)
    except Exception as e:  # a tracer leaked out, an object that is not numeric ...
        raise CheckFailure(f"{what} cannot be read as an array ({type(e).__name__}: {e})")


def _short(arr):
    with _np.printoptions(precision=6, threshold=20, edgeitems=3, suppress=True):
        return _np.array2string(_np.asarray(arr), separator=", ")


def assert_allclose(actual, expected, *, rtol=1e-5, atol=1e-6, check_dtype=True,
                    check_shape=True, err_msg=""):
    """Check that ``actual`` is close to ``expected``, explaining the first difference found.

    ``expected`` may be a Python number, a list, a NumPy array or a JAX array.
    The dtype is compared only when ``expected`` has one (a NumPy/JAX array or
    scalar) and ``check_dtype`` is true; the shape when ``check_shape`` is true
    (a scalar expectation matches shape ``()``).
    """
    prefix = (err_msg + ": ") if err_msg else ""
    act = _to_numpy(actual, "your result")
    exp = _np.asarray(expected)
    if check_shape and act.shape != exp.shape:
        hint = ""
        if act.size == exp.size:
            hint = " (same number of elements: a reshape, a transpose or a missing axis= ?)"
        elif act.ndim == exp.ndim + 1 or act.ndim + 1 == exp.ndim:
            hint = " (one axis too many or too few: check keepdims= / axis=)"
        raise CheckFailure(f"{prefix}wrong shape: expected {exp.shape}, got {act.shape}{hint}")
    if check_dtype and hasattr(expected, "dtype") and act.dtype != _np.dtype(expected.dtype):
        why = ""
        if act.dtype in (_np.int64, _np.float64) and _np.dtype(expected.dtype).itemsize < 8:
            why = (" 64-bit values usually mean the result came from NumPy or a Python list; "
                   "JAX computes in int32/float32 (build the result with jnp).")
        elif act.dtype.kind != _np.dtype(expected.dtype).kind:
            why = " (an integer where a float was expected, or the other way round?)"
        raise CheckFailure(f"{prefix}wrong dtype: expected {_np.dtype(expected.dtype)}, got "
                           f"{act.dtype}.{why}")
    if act.dtype == object:
        raise CheckFailure(f"{prefix}your result is not numeric: {_describe(actual)}")
    if exp.dtype.kind in "biu" and act.dtype.kind in "biu":
        bad = act != exp
    else:
        try:
            bad = ~_np.isclose(act.astype(_np.complex128 if exp.dtype.kind == "c" else _np.float64),
                               exp.astype(_np.complex128 if exp.dtype.kind == "c" else _np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)
        except (TypeError, ValueError) as e:
            raise CheckFailure(f"{prefix}cannot compare {_describe(actual)} with the expected "
                               f"{_describe(expected)} ({e})")
    bad = _np.broadcast_to(bad, _np.broadcast_shapes(act.shape, exp.shape))
    if bad.any():
        n, total = int(bad.sum()), bad.size
        if exp.ndim == 0 and act.ndim == 0:
            raise CheckFailure(f"{prefix}expected {exp.item()!r}, got {act.item()!r} "
                               f"(rtol={rtol}, atol={atol})")
        where = tuple(int(i) for i in _np.argwhere(bad)[0])
        a_b, e_b = _np.broadcast_to(act, bad.shape), _np.broadcast_to(exp, bad.shape)
        raise CheckFailure(
            f"{prefix}{n} of {total} values differ (rtol={rtol}, atol={atol}); first at index "
            f"{where}: expected {e_b[where].item()!r}, got {a_b[where].item()!r}\n"
            f"  expected: {_short(exp)}"
            f"\n  got:      {_short(act)}")


def assert_equal(actual, expected, err_msg=""):
    """Exact equality for plain Python values (strings, tuples, dicts, dtypes ...)."""
    if not (actual == expected):
        prefix = (err_msg + ": ") if err_msg else ""
        raise CheckFailure(f"{prefix}expected {expected!r}, got {actual!r}")


# -- cases -------------------------------------------------------------------------

def _explain(exc):
    """One short, student-facing line for an exception raised inside a case."""
    if isinstance(exc, NotImplementedError):
        return "not answered yet (the cell still raises NotImplementedError)"
    if isinstance(exc, SystemExit):
        return "your code called sys.exit() / exit(): remove it"
    if isinstance(exc, MemoryError):
        return "ran out of memory (the grader caps memory): is an array much larger than needed?"
    if isinstance(exc, RecursionError):
        return "infinite recursion (RecursionError)"
    if isinstance(exc, NameError):
        return f"NameError: {exc} (did you run the cell that defines it, and keep its name?)"
    if isinstance(exc, CheckFailure):
        return str(exc)
    if isinstance(exc, AssertionError):
        return f"assertion failed{': ' + str(exc) if str(exc) else ''}"
    return f"{type(exc).__name__}: {exc}"


class _Case:
    def __init__(self, owner, name, hint, line):
        self.owner, self.name, self.hint, self.line = owner, name, hint, line

    def __enter__(self):
        return self

    def __exit__(self, etype, exc, tb):
        if etype is not None and issubclass(etype, KeyboardInterrupt):
            self.owner._record(self, False, "stopped: it ran past the time limit (an endless "
                                            "loop?)")
            return False  # let the interrupt stop the cell
        if etype is None:
            self.owner._record(self, True, "")
        else:
            self.owner._record(self, False, _explain(exc))
        return True  # a failing case never stops the next one


class Cases:
    """The cases of one question's test cell; use through :func:`cases`."""

    def __init__(self, question, quiet=False, raise_on_failure=True):
        self.question = str(question)
        self.results = []
        self.quiet = quiet
        self.raise_on_failure = raise_on_failure

    def case(self, name, hint=""):
        """A context manager: its body is one test case."""
        frame = sys._getframe(1)
        return _Case(self, str(name), str(hint), frame.f_lineno)

    def _record(self, case, passed, message):
        self.results.append({"name": case.name, "passed": bool(passed), "message": message,
                             "hint": case.hint, "line": case.line})

    def __enter__(self):
        return self

    def summary_lines(self):
        lines = []
        for r in self.results:
            mark = "ok  " if r["passed"] else "FAIL"
            lines.append(f"  [{mark}] {r['name']}")
            if not r["passed"]:
                lines.extend("         " + m for m in r["message"].splitlines())
                if r["hint"]:
                    lines.append(f"         hint: {r['hint']}")
        return lines

    def __exit__(self, etype, exc, tb):
        if etype is not None and not issubclass(etype, KeyboardInterrupt):
            # an error between cases (outside any `with t.case`): count it as a failed case
            self.results.append({"name": "(test code outside a case)", "passed": False,
                                 "message": _explain(exc), "hint": "", "line": 0})
        _report(self)
        passed = sum(r["passed"] for r in self.results)
        total = len(self.results)
        if not self.quiet:
            word = "check" if total == 1 else "checks"
            print(f"{self.question}: {passed}/{total} {word} passed")
            for line in self.summary_lines():
                print(line)
        if etype is not None and issubclass(etype, KeyboardInterrupt):
            return False
        if passed < total and self.raise_on_failure:
            failed = [r["name"] for r in self.results if not r["passed"]]
            raise AssertionError(f"{self.question}: {total - passed} of {total} {'check' if total == 1 else 'checks'} "
                                 f"failed: " + "; ".join(failed))
        return True


def cases(question, quiet=False):
    """Group the test cases of ``question``; see the module docstring."""
    hook = _ACTIVE.get("factory")
    if hook is not None:
        return hook(question)
    return Cases(question, quiet=quiet)


# Set by minijax.course._harness (grading) or minijax.course.selfcheck (check("q1")).
_ACTIVE = {}


def _report(c):
    reporter = _ACTIVE.get("reporter")
    if reporter is not None:
        try:
            reporter(c)
        except Exception:  # a reporting problem must not look like a student error
            traceback.print_exc()
