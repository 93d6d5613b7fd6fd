"""``check("q1")``: run a question's visible tests in the student's own kernel.

The visible tests come from ``_visible_tests.py`` (written by ``minijax-course release``
from the solution keys), so the check works even if the test cell was deleted or edited.
Nothing is graded here: it only tells the student where they stand, with hints.
"""
from __future__ import annotations

import sys

from . import testing


def _tests():
    from ._visible_tests import VISIBLE_TESTS
    return VISIBLE_TESTS


class Check:
    """Callable: ``check("q1")``; set ``check.chapter = "01"`` once per notebook."""

    def __init__(self):
        self.chapter = None
        self.last = None  # True/False: did the last check pass every visible test?

    def _resolve(self, question):
        tests = _tests()
        chapter, q = self.chapter, str(question)
        for sep in ("/", ".", ":"):
            if sep in q:
                chapter, q = q.split(sep, 1)
        if chapter is None:
            having = [c for c, qs in tests.items() if q in qs or q + "_tests" in qs]
            if len(having) != 1:
                raise ValueError(f"check({question!r}): which chapter? Set check.chapter = "
                                 "'01' (the exercise's setup cell does this) or call "
                                 "check('01/q1').")
            chapter = having[0]
        chapter = str(chapter).zfill(2)[:2] if str(chapter).isdigit() else str(chapter)[:2]
        qs = tests.get(chapter)
        if qs is None:
            raise ValueError(f"check: no exercises for chapter {chapter!r} "
                             f"(known: {', '.join(sorted(tests))})")
        gid = q if q in qs else q + "_tests"
        if gid not in qs:
            raise ValueError(f"check: chapter {chapter} has no question {q!r} "
                             f"(questions: {', '.join(k[:-6] if k.endswith('_tests') else k for k in qs)})")
        return chapter, gid, qs[gid]

    def __call__(self, question, namespace=None):
        chapter, gid, entry = self._resolve(question)
        name = gid[:-len("_tests")] if gid.endswith("_tests") else gid
        ns = namespace if namespace is not None else sys._getframe(1).f_globals
        captured = []

        def factory(q):
            return testing.Cases(q, quiet=True, raise_on_failure=False)

        saved = dict(testing._ACTIVE)
        testing._ACTIVE.clear()
        testing._ACTIVE.update(factory=factory, reporter=captured.append)
        try:
            exec(compile(entry["source"], f"<visible tests of {name}>", "exec"), ns)
        except BaseException as e:  # noqa: BLE001 - report, never crash the student's kernel
            if isinstance(e, KeyboardInterrupt):
                raise
            print(f"{name}: the tests could not run: {type(e).__name__}: {e}")
            self.last = False
            return None
        finally:
            testing._ACTIVE.clear()
            testing._ACTIVE.update(saved)
        results = [r for c in captured for r in c.results]
        self.last = _verdict(name, entry.get("points"), results)


def _verdict(name, points, results):
    total = len(results)
    passed = sum(r["passed"] for r in results)
    pts = f" ({points:g} points)" if isinstance(points, (int, float)) else ""
    if total and passed == total:
        print(f"{name}{pts}: all {total} visible checks pass. Well done! The grader also "
              "runs hidden checks, so test a case or two of your own.")
        return True
    if total and all("NotImplementedError" in r["message"] for r in results if not r["passed"]) \
            and passed == 0:
        print(f"{name}{pts}: not answered yet: replace `raise NotImplementedError()` with "
              "your code and run that cell, then check again.")
        return False
    print(f"{name}{pts}: {passed} of {total} visible checks pass. Not there yet:")
    for r in results:
        if r["passed"]:
            print(f"  ok    {r['name']}")
        else:
            print(f"  FAIL  {r['name']}")
            for line in r["message"].splitlines():
                print(f"        {line}")
            if r["hint"]:
                print(f"        hint: {r['hint']}")
    return False


check = Check()
