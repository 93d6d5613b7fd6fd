"""Lesson 02: Differences from NumPy. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "02_differences_from_numpy.ipynb"

CELLS = [
    md("""
    # Lesson 02 — Differences from NumPy

    **What you will learn**

    - that a JAX array is a different Python type from a NumPy `ndarray`;
    - that JAX arrays can never be changed in place, and how to "update" one anyway with `x.at[...]`;
    - the `.at` recipes: `set`, `add`, `multiply`, `min`, `max`, `get`, and what happens with repeated or
      out-of-bounds indices;
    - which Python collections can become arrays, and why a `set` cannot.

    We pick up where [Lesson 01](01_jax_numpy.ipynb) stopped, with the same two arrays:
    """),
    code("""
    import minijax as jax
    import minijax.numpy as jnp

    a = jnp.ones((1,10))
    c = jnp.arange(1,20,2)
    """, tags=["no-output"]),
    md("""
    ## Differences

    The code looks like NumPy. So where do the two part ways?

    ### 1. Datatype

    Ask Python what `a` is. It is not a NumPy array but JAX's own array class:
    """),
    code("""
    type(a)
    """),
    md("""
    (The real JAX's array class is implemented in C++ inside `jaxlib`; minijax's is plain Python, in
    `minijax/_src/array.py`, so you can read it. In both libraries the name to use in type hints and
    `isinstance` checks is `jax.Array`.)

    A NumPy array, for comparison, is an `ndarray`:
    """),
    code("""
    import numpy
    d = numpy.array([1,3,4])

    type(d)
    """),
    md("""
    ### 2. Mutability

    A NumPy array can be modified in place: assign to an element and the array itself changes.
    """),
    code("""
    d[2] = 5

    d
    """),
    md("""
    Try the same with a JAX array:
    """),
    code("""
    c[4] = -1

    c
    """, tags=["raises-exception"]),
    md("""
    > **Note:** the error message points to `x = x.at[idx].set(y)`. That line does *not* modify `x`: it builds
    > a **new** array with the change applied and rebinds the name `x` to it. JAX arrays are immutable, full
    > stop. That is what lets `jit`, `grad` and `vmap` treat your functions as mathematical functions of
    > their inputs.

    `c` itself is untouched:
    """),
    code("""
    c
    """),
    md("""
    #### Updating with `.at`

    `x.at[index]` names a place in the array; a method on it says what to do there, and returns the new array.
    """),
    code("""
    x = jnp.arange(5.0)
    y = x.at[2].set(10.0)
    print("x:", x)
    print("y:", y)
    """),
    md("""
    The recipes, each returning a fresh array:
    """),
    code("""
    print(x.at[1].add(5.0))          # x[1] += 5
    print(x.at[1:4].multiply(2.0))   # a slice works too
    print(x.at[:].min(2.0))          # elementwise minimum with 2
    print(x.at[jnp.array([0, 4])].max(3.0))  # an integer array picks several places
    """),
    md("""
    **Repeated indices accumulate.** In NumPy, `d[[0, 0, 0]] += 1` adds 1 once, because the three writes
    overwrite each other. With `.at[...].add`, every occurrence counts:
    """),
    code("""
    d = numpy.zeros(3)
    d[[0, 0, 0]] += 1
    print("NumPy:", d)
    print("JAX:  ", jnp.zeros(3).at[jnp.array([0, 0, 0])].add(1.0))
    """),
    md("""
    This is exactly what you want for histograms and for summing gradients that flow into the same element.

    **Out-of-bounds indices do not raise.** JAX code often runs on accelerators where raising an error from the
    middle of a computation is not possible, so JAX picks a value instead: reading *clamps* the index to the
    valid range, and an update at an invalid index is *dropped*.
    """),
    code("""
    print(x[10])                  # reads the last element
    print(x.at[10].set(99.0))     # update is dropped: x unchanged
    """),
    md("""
    The `mode` argument makes the choice explicit: `"clip"` clamps the index, `"drop"` ignores out-of-bounds
    updates, and `"fill"` returns a `fill_value` for out-of-bounds reads.
    """),
    code("""
    print(x.at[10].set(99.0, mode="clip"))
    print(x.at[jnp.array([1, 10])].set(7.0, mode="drop"))
    print(x.at[jnp.array([1, 10])].get(mode="fill", fill_value=-1.0))
    """),
    md("""
    #### Immutable all the way down

    `numpy.asarray(x)` gives you a NumPy view of a JAX array without copying. The view is read-only, so the
    immutability cannot be sidestepped through it:
    """),
    code("""
    view = numpy.asarray(c)
    view.flags.writeable
    """),
    code("""
    view[0] = 100
    """, tags=["raises-exception"]),
    md("""
    If you want a NumPy array you can modify, ask for a copy: `numpy.array(c)`.

    ### 3. Initialization from Python Collections

    NumPy and JAX also disagree about which Python collections can become an array. Here are a list, a set
    and a tuple. First, what NumPy makes of them:
    """),
    code("""
    listA = [1, 2, 3]
    setB = {2,3,5}
    tupleC = (1,3,5)
    """, tags=["no-output"]),
    code("""
    a = numpy.array(listA)
    b = numpy.array(setB)
    c = numpy.array(tupleC)

    print(a, type(a))
    print(b, type(b))
    print(c, type(c))
    """),
    md("""
    All three are accepted and all three are `ndarray`s. But look at the middle one: NumPy did not make an
    array of three numbers. It made a zero-dimensional array of dtype `object` that holds the whole set as a
    single Python object:
    """),
    code("""
    b.shape, b.dtype
    """),
    md("""
    Now the same with JAX:
    """),
    code("""
    a = jnp.array(listA)
    b = jnp.array(setB)
    c = jnp.array(tupleC)

    print(a, type(a))
    print(b, type(b))
    print(c, type(c))
    """, tags=["raises-exception"]),
    md("""
    **Conclusion:** JAX refuses to build an array from a set. That is sensible: a set has no order, so there is
    no first, second or third element to put in the array. Decide on an order yourself:
    """),
    code("""
    jnp.array(sorted(setB))
    """),
    md("""
    Other values that are not rectangular collections of numbers are refused as well, each with an error that
    says why. A dict:
    """),
    code("""
    jnp.array({"a": 1, "b": 2})
    """, tags=["raises-exception"]),
    md("""
    A string:
    """),
    code("""
    jnp.array("123")
    """, tags=["raises-exception"]),
    md("""
    And a "ragged" list, whose rows have different lengths:
    """),
    code("""
    jnp.array([[1, 2], [3]])
    """, tags=["raises-exception"]),
    md("""
    ## Summary

    - JAX arrays are their own type, `jax.Array`, not `numpy.ndarray`;
    - they are immutable: `x = x.at[idx].set(y)` and its siblings build updated copies;
    - repeated indices accumulate in `.at[...].add`, out-of-bounds reads clamp and out-of-bounds updates are
      dropped, unless you pick another `mode`;
    - arrays are built from scalars, lists, tuples and arrays, never from sets.

    **Next:** [Lesson 03 — Autograd](03_autograd.ipynb): computing derivatives with `jax.grad`.
    """),
]
