"""Lesson 03: Autograd. Cells in order; built by tools/build_lessons.py."""
from build_lessons import code, md

FILENAME = "03_autograd.ipynb"

CELLS = [
    md("""
    # Lesson 03 — Autograd

    **What you will learn**

    - how `jax.grad` turns a Python function into the function that computes its derivative;
    - how to see a function and its derivative side by side, and to slide a tangent line along a curve;
    - `value_and_grad`, and gradient descent on a 2-D bowl;
    - gradients with respect to whole dictionaries of parameters (*pytrees*);
    - Jacobians and Hessians, and when forward mode or reverse mode is the cheaper way to get them;
    - the mistakes JAX refuses, and what each error message tells you to do.

    We continue from [Lesson 02](02_differences_from_numpy.ipynb), at the tutorial's **Autograd**
    heading.
    """),
    code("""
    import minijax as jax
    import minijax.numpy as jnp
    import matplotlib.pyplot as plt
    import course_style             # the course's figure style (lessons/course_style.py)
    course_style.use()
    """, tags=["no-output"]),
    md("""
    ## Autograd

    `jax.grad(f)` does not compute a number: it returns a **new function** that, given `x`, returns the
    derivative $f'(x)$. Start with $f(x) = x^2$, whose derivative is $2x$:
    """),
    code("""
    def f(x):
        return x ** 2

    df = jax.grad(f)
    df(3.0)
    """),
    md("""
    $2 \\cdot 3 = 6$. (`weak_type=True` says the result came from a Python float, so it will adapt to
    whatever precision it is later combined with — Lesson 01 explained weak types.)

    The derivative of $\\sin$ is $\\cos$; at $0$ both answers agree:
    """),
    code("""
    jax.grad(jnp.sin)(0.0), jnp.cos(0.0)
    """),
    md("""
    A polynomial, $p(x) = x^3 - 2x^2 + 3$, has $p'(x) = 3x^2 - 4x$, so $p'(2) = 4$:
    """),
    code("""
    def p(x):
        return x ** 3 - 2 * x ** 2 + 3

    jax.grad(p)(2.0)
    """),
    md("""
    Since `jax.grad(p)` is an ordinary function, you can differentiate it again. The second derivative
    is $6x - 4$, the third is the constant $6$, and the fourth is $0$:
    """),
    code("""
    d2p = jax.grad(jax.grad(p))
    d3p = jax.grad(d2p)
    d4p = jax.grad(d3p)
    d2p(2.0), d3p(2.0), d4p(2.0)
    """),
    md("""
    ## A function and its derivative, side by side

    `grad` wants a function with a **scalar** output (we will see the error otherwise). To evaluate the
    derivative at many points at once, vectorize it with `jax.vmap` — it maps the scalar function over
    the leading axis of an array:
    """),
    code("""
    xs = jnp.linspace(-3, 3, 200)
    g = lambda x: jnp.sin(x) * x          # a wiggly curve
    dg = jax.vmap(jax.grad(g))            # its derivative, for a whole array of points

    fig, ax = plt.subplots()
    ax.plot(xs, g(xs), label="g(x) = x sin x")
    ax.plot(xs, dg(xs), label="g'(x) from jax.grad")
    ax.axhline(0, color="gray", lw=0.5)
    ax.legend()
    plt.show()
    """),
    md("""
    Read the picture: wherever $g$ has a peak or a valley, the orange curve crosses zero; where $g$
    climbs, $g'$ is positive.

    ### The tangent line

    The derivative at $x_0$ is the slope of the tangent line there:
    $y = g(x_0) + g'(x_0)\\,(x - x_0)$. Move the slider to roll the point along the curve (the widget
    needs a running kernel; the static figure after it shows three positions).
    """),
    code("""
    from ipywidgets import FloatSlider, Output, VBox

    def tangent_figure(x0):
        slope = jax.grad(g)(x0)
        fig, ax = plt.subplots()
        ax.plot(xs, g(xs))
        ax.plot(xs, g(x0) + slope * (xs - x0), "--", label=f"slope {float(slope):.2f}")
        ax.plot([x0], [g(x0)], "o")
        ax.set_ylim(-3, 3)
        ax.legend(loc="upper center")
        plt.close(fig)               # draw it into the widget below, not under this cell
        return fig

    slider = FloatSlider(value=1.0, min=-3.0, max=3.0, step=0.1, description="x0")
    picture = Output()

    def show(x0):
        picture.outputs = ()
        picture.append_display_data(tangent_figure(x0))

    slider.observe(lambda change: show(change["new"]), names="value")
    show(slider.value)
    VBox([slider, picture])
    """),
    code("""
    fig, ax = plt.subplots()
    ax.plot(xs, g(xs), color="black")
    for x0 in [-2.0, 0.5, 2.0]:
        slope = jax.grad(g)(x0)
        near = jnp.linspace(x0 - 0.8, x0 + 0.8, 2)
        ax.plot(near, g(x0) + slope * (near - x0), "--", lw=2)
        ax.plot([x0], [g(x0)], "o")
        print(f"x0 = {x0:+.1f}: g'(x0) = {float(slope):+.4f}")
    plt.show()
    """),
    md("""
    ## `value_and_grad`

    Training loops need the loss *and* its gradient. `jax.value_and_grad` returns both from one pass
    through the function (the forward pass is done anyway to get the gradient):
    """),
    code("""
    value, slope = jax.value_and_grad(p)(2.0)
    value, slope
    """),
    md("""
    ### Gradient descent on a 2-D bowl

    The bowl $b(x, y) = (x - 1)^2 + 4\\,(y + 0.5)^2 + x y$ has one lowest point. Gradient descent
    starts anywhere and repeatedly steps *downhill*, against the gradient:
    $\\theta \\leftarrow \\theta - \\eta\\,\\nabla b(\\theta)$. Here $\\theta$ is a length-2 array, and the
    gradient is a length-2 array too.
    """),
    code("""
    def bowl(theta):
        x, y = theta[0], theta[1]
        return (x - 1) ** 2 + 4 * (y + 0.5) ** 2 + x * y

    theta = jnp.array([-2.5, 1.5])
    learning_rate = 0.08
    path = [theta]
    for step in range(40):
        loss, grads = jax.value_and_grad(bowl)(theta)
        theta = theta - learning_rate * grads
        path.append(theta)
    path = jnp.stack(path)
    print("final point:", path[-1], " loss:", bowl(path[-1]))
    """),
    code("""
    grid = jnp.linspace(-3, 3, 40)
    X, Y = jnp.meshgrid(grid, grid)
    Z = (X - 1) ** 2 + 4 * (Y + 0.5) ** 2 + X * Y      # the same bowl, on a whole grid

    fig, ax = plt.subplots()
    ax.contour(X, Y, Z, levels=[0, 1, 4, 16, 64])       # the heights of the contour lines
    ax.plot(path[:, 0], path[:, 1], "o-", color="crimson", markersize=3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    plt.show()
    """),
    md("""
    The path starts steep (big gradient, big steps) and slows down as the bowl flattens near the bottom.
    Try `learning_rate = 0.3`: the steps overshoot across the narrow direction of the bowl.

    ## Gradients of pytrees: dictionaries of parameters

    Models keep their parameters in containers — dicts, lists, tuples, nested any way you like. JAX
    calls such a nesting a **pytree**, and `grad` accepts one: the gradient has *the same structure*
    as the parameters. Here is a linear model $\\hat y = w \\cdot x + b$ on four data points:
    """),
    code("""
    params = {"w": jnp.array([0.5, -0.3]), "b": 0.0}
    data_x = jnp.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.3], [2.0, 1.0]])
    data_y = jnp.array([1.0, 0.2, -1.4, 2.5])

    def mse(params):
        pred = data_x @ params["w"] + params["b"]
        return jnp.mean((pred - data_y) ** 2)

    grads = jax.grad(mse)(params)
    grads
    """),
    md("""
    To take a step, combine the two trees leaf by leaf with `jax.tree_util.tree_map`:
    """),
    code("""
    for step in range(100):
        grads = jax.grad(mse)(params)
        params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)

    print("loss:", mse(params))
    print("structure:", jax.tree_util.tree_structure(params))
    """),
    md("""
    ## Jacobians and Hessians

    For a function with vector input and vector output, the derivative is a matrix, the
    **Jacobian** $J_{ij} = \\partial f_i / \\partial x_j$. JAX offers two ways to build it:
    `jax.jacfwd` (forward mode) and `jax.jacrev` (reverse mode). They agree:
    """),
    code("""
    def h(v):
        return jnp.stack([v[0] * v[1], jnp.sin(v[2]), v[0] + v[1] * v[2]])

    v = jnp.array([1.0, 2.0, 0.5])
    jax.jacfwd(h)(v)
    """),
    code("""
    jnp.allclose(jax.jacfwd(h)(v), jax.jacrev(h)(v))
    """),
    md("""
    The **Hessian** of a scalar function is the Jacobian of its gradient: the matrix of second
    derivatives. `jax.hessian(f)` is `jax.jacfwd(jax.jacrev(f))`. For the bowl it is constant, and
    symmetric (mixed partial derivatives do not depend on the order):
    """),
    code("""
    jax.hessian(bowl)(jnp.array([0.0, 0.0]))
    """),
    md("""
    ## Forward mode or reverse mode?

    Both modes start from the same idea — the chain rule — but walk it in opposite directions:

    - **forward mode** (`jax.jvp`) pushes a direction $v$ *through* the function alongside the
      values and returns $J v$, one column-combination of the Jacobian per pass;
    - **reverse mode** (`jax.vjp`, which `grad` uses) first runs the function, then pulls a
      weighting $u$ of the outputs *back* and returns $u^\\top J$, one row-combination per pass.
    """),
    code("""
    out, Jv = jax.jvp(h, (v,), (jnp.array([1.0, 0.0, 0.0]),))    # first column of J
    out, h_vjp = jax.vjp(h, v)
    uJ, = h_vjp(jnp.array([1.0, 0.0, 0.0]))                        # first row of J
    Jv, uJ
    """),
    md("""
    So a full Jacobian of $f: \\mathbb{R}^n \\to \\mathbb{R}^m$ costs $n$ forward passes or $m$
    reverse passes:

    | shape of the Jacobian | example | cheaper |
    |---|---|---|
    | wide: few outputs, many inputs ($m \\ll n$) | a loss of a million parameters ($m = 1$) | reverse: `grad`, `jacrev` |
    | tall: many outputs, few inputs ($m \\gg n$) | a curve $\\mathbb{R} \\to \\mathbb{R}^{1000}$ | forward: `jvp`, `jacfwd` |

    That is why training uses reverse mode: one backward pass gives the derivative with respect to
    every parameter at once. Reverse mode pays in memory: it has to keep the intermediate values of
    the forward pass until the backward pass uses them.
    """),
    code("""
    loss_of_many = lambda w: jnp.sum(jnp.tanh(w) ** 2)       # R^1000 -> R: one reverse pass
    curve = lambda t: jnp.sin(t * jnp.arange(1000.0))        # R -> R^1000: one forward pass
    jax.jacrev(loss_of_many)(jnp.ones(1000)).shape, jax.jacfwd(curve)(0.5).shape
    """),
    md("""
    ## When autograd says no

    ### 1. The output must be a scalar

    `grad` computes the derivative of *one* number. A vector output needs `jacfwd`/`jacrev`, or a
    reduction such as `jnp.sum` first:
    """),
    code("""
    jax.grad(lambda x: x ** 2)(jnp.array([1.0, 2.0]))
    """, tags=["raises-exception"]),
    md("""
    ### 2. The input must be a float

    Integers have no "nearby values" to move to, so there is no derivative. Pass `3.0`, not `3`:
    """),
    code("""
    jax.grad(f)(3)
    """, tags=["raises-exception"]),
    md("""
    ### 3. Python control flow on traced values

    Under `grad`, the function sees concrete numbers, so an ordinary `if` just works:
    """),
    code("""
    def relu_squared(x):
        if x > 0:
            return x ** 2
        return 0.0 * x

    jax.grad(relu_squared)(3.0), jax.grad(relu_squared)(-3.0)
    """),
    md("""
    Transformations that *trace* the function — `vmap` here, and `jit` in a later lesson — run it on
    abstract stand-ins (**tracers**) that know only a shape and a dtype. Python cannot decide the `if`:
    """),
    code("""
    jax.vmap(jax.grad(relu_squared))(jnp.array([-1.0, 2.0, 3.0]))
    """, tags=["raises-exception"]),
    md("""
    The fix the message suggests: compute both branches and *select* with `jnp.where`, which works on
    whole arrays of conditions:
    """),
    code("""
    def relu_squared(x):
        return jnp.where(x > 0, x ** 2, 0.0)

    jax.vmap(jax.grad(relu_squared))(jnp.array([-1.0, 2.0, 3.0]))
    """),
    md("""
    ### 4. NumPy functions cannot be differentiated

    `np.sin` computes immediately on concrete data; it cannot tell JAX what it did. Use `jnp.sin`:
    """),
    code("""
    import numpy as np
    jax.grad(lambda x: np.sin(x))(1.0)
    """, tags=["raises-exception"]),
    md("""
    ### 5. Leaked tracers

    A transformed function must hand back everything it computes through its return value. Storing a
    tracer on the side and using it later fails: its transformation is over.
    """),
    code("""
    saved = []

    def sneaky(x):
        saved.append(x)          # side effect: keep the tracer
        return x * 2

    jax.vmap(sneaky)(jnp.arange(3.0))
    jnp.sin(saved[0])
    """, tags=["raises-exception"]),
    md("""
    ## Summary

    - `jax.grad(f)` is a function; compose it freely: `grad(grad(f))`, `vmap(grad(f))`.
    - `value_and_grad` returns the value too; with pytrees of parameters, the gradient has the same
      structure, and `tree_map` applies an update leaf by leaf.
    - `jacfwd` / `jacrev` / `hessian` give full derivative matrices; forward mode is cheap for few
      inputs, reverse mode for few outputs.
    - The errors each name the fix: scalar outputs, float inputs, `jnp.where`/`lax.cond` instead of
      Python `if` under tracing, `jnp` instead of `np`, and no side effects.

    **Next:** [Lesson 04 — jit](04_jit_compilation.ipynb): tracing a function once and compiling it into fast code.
    """),
]
