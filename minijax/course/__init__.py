"""Course tooling: exercise release, self-check and the classroom autograder.

Not imported by ``import minijax``. In an exercise notebook::

    from minijax.course import check
    check.chapter = "01"
    check("q1")          # run the visible tests of question 1, with a friendly verdict

For instructors: ``minijax-course release`` (exercises from solutions),
``minijax-grade`` (grade submissions), ``minijax-course gradescope NN`` (autograder zip).
See docs/instructors.md.
"""
from .selfcheck import check

__all__ = ["check"]
