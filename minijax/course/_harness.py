"""Kernel-side half of minijax-grade (runs inside the student's kernel; not for students).

``install(nonce)`` runs before any student code: it imports the modules a test relies
on and snapshots them. ``begin(grade_id)`` runs just before each re-inserted test cell:
it puts back anything a student replaced (``numpy.allclose = lambda *a: True``, a
redefined ``minijax.course.testing.assert_allclose``, a swapped ``sys.modules`` entry),
reports what it had to restore, and arms the reporter that sends each question's case
results to the grader tagged with the run's nonce.

This raises the bar against casual tampering; it is not a sandbox (code in the same
process can always reach these objects): see docs/instructors.md, "Threat model".
"""
from __future__ import annotations

import builtins
import sys

PROTECTED = ("builtins", "math", "numpy", "numpy.testing", "minijax", "minijax.numpy",
             "minijax.lax", "minijax.course", "minijax.course.testing", "minijax.course._harness")
MIME = "application/vnd.minijax.cases+json"
TAMPER_MIME = "application/vnd.minijax.harness+json"

# set by ipykernel/IPython on every execution: not the student's doing
VOLATILE = {("builtins", "input"), ("builtins", "raw_input"), ("builtins", "getpass")}

_state = {}


def install(nonce):
    import importlib
    import math  # noqa: F401
    import numpy  # noqa: F401
    import numpy.testing  # noqa: F401

    for name in PROTECTED:
        importlib.import_module(name)
    from IPython import get_ipython
    shell = get_ipython()
    _state.update(
        nonce=str(nonce),
        modules={name: sys.modules[name] for name in PROTECTED},
        dicts={name: dict(vars(sys.modules[name])) for name in PROTECTED},
        publish=shell.display_pub.publish,
        grade_id=None,
        setattr=builtins.setattr, isinstance=builtins.isinstance,
    )
    from . import testing
    classes = {}
    for name in ("minijax.course.testing",):
        for value in vars(sys.modules[name]).values():
            if isinstance(value, type) and value.__module__ == name:
                classes[value] = {k: v for k, v in vars(value).items() if k != "__dict__"
                                  and k != "__weakref__"}
    _state["classes"] = classes
    _state["testing"] = testing
    _state["Cases"] = testing.Cases
    sys.audit("minijax.grade.arm")  # from now on the kernel may not start programs


def _restore():
    changed = []
    modules, dicts = _state["modules"], _state["dicts"]
    for name, module in modules.items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}] was replaced")
            sys.modules[name] = module
        current = vars(module)
        for key, value in dicts[name].items():
            if (name, key) in VOLATILE:
                continue
            if key not in current or current[key] is not value:
                if not (key.startswith("__") and key.endswith("__")):
                    changed.append(f"{name}.{key} was replaced")
                current[key] = value
    for cls, attrs in _state["classes"].items():
        current = vars(cls)
        for key in list(current):
            if key not in attrs and key not in ("__dict__", "__weakref__"):
                changed.append(f"{cls.__module__}.{cls.__name__}.{key} was added")
                delattr(cls, key)
        for key, value in attrs.items():
            if current.get(key, _MISSING) is not value:
                changed.append(f"{cls.__module__}.{cls.__name__}.{key} was replaced")
                setattr(cls, key, value)
    return changed


_MISSING = object()


def _reporter(cases_obj):
    payload = {"grade_id": _state["grade_id"], "nonce": _state["nonce"],
               "question": cases_obj.question, "cases": list(cases_obj.results)}
    _state["publish"]({MIME: payload, "text/plain": ""}, metadata={})


def _factory(question):
    return _state["Cases"](question, quiet=True, raise_on_failure=True)


def begin(grade_id):
    changed = _restore()
    testing = _state["testing"]
    testing._ACTIVE.clear()
    testing._ACTIVE["reporter"] = _reporter
    testing._ACTIVE["factory"] = _factory
    _state["grade_id"] = str(grade_id)
    _state["publish"]({TAMPER_MIME: {"nonce": _state["nonce"], "restored": changed},
                       "text/plain": ""}, metadata={})
