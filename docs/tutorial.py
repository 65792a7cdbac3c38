# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # BPTT from scratch
#
# Backpropagation through time is ordinary backpropagation on a recurrent network
# unrolled over its time steps. This notebook shows it six ways, each chapter ending in
# something you can look at:
#
# 1. the textbook RNN written as a plain loop, and its gradient `W.grad`;
# 2. the unrolled graph, the red path BPTT walks back, and gradients that vanish or explode;
# 3. the book's equations 10.18-10.28 held against autodiff, and why 10.21 as printed is
#    undefined;
# 4. your own derivation for your own network, judged by `check_formula`;
# 5. `autograd_mini.compile`: the backward program the compiler writes, next to the book;
# 6. RTRL and BPTT: the same gradient, carried forward or backward in time, and what each costs.
#
# It runs in well under a minute. Set up with `make install` in the project (or
# `pip install 'autograd-mini[viz,plot,docs]'`); the graph pictures need graphviz's `dot`.
# `docs/tutorial.py` is the source of this notebook: edit that, then regenerate with
# `jupytext --to ipynb --execute docs/tutorial.py`.

# %%
# Figures a cell returns show as pictures (the kernel's own inline backend; nothing switched).
# %matplotlib inline
import time

import numpy as np

import autograd_mini
from autograd_mini import Tensor, gradcheck, scope, softmax_cross_entropy

np.set_printoptions(precision=4, suppress=True, linewidth=100)

# %% [markdown]
# ## 1. The textbook RNN as a loop
#
# Goodfellow, Bengio and Courville's *Deep Learning* (section 10.2) runs, for t = 1..T,
#
#     a(t) = b + W h(t-1) + U x(t)      h(t) = tanh(a(t))
#     o(t) = c + V h(t)                 L(t) = -log softmax(o(t))[y(t)]
#
# and sums the losses, L = sum_t L(t), starting from h(0) = 0. Written with `Tensor`s it
# is the same loop. Two habits make the later chapters work: each step runs inside
# `scope(f"t={t}")` (so the graph knows its time steps), and the values we want to find
# again are named (`.named("h(3)")`).

# %%
D, H, C, T = 4, 5, 3, 6                        # sizes of x(t), h(t), o(t); time steps
rng = np.random.default_rng(0)


def param(name, *shape, scale):
    return Tensor(rng.normal(0, scale, shape), requires_grad=True, name=name)


params = {"U": param("U", H, D, scale=0.5), "W": param("W", H, H, scale=0.5),
          "V": param("V", C, H, scale=0.5), "b": param("b", H, scale=0.1),
          "c": param("c", C, scale=0.1)}
x, y = rng.normal(size=(T, D)), rng.integers(0, C, size=T)   # inputs and class labels


def rnn_loss(x, y, U, W, V, b, c):
    """L = sum_t L(t) of the textbook RNN over the T rows of x (labels y)."""
    h = Tensor(np.zeros(W.shape[0]), name="h(0)")
    loss = 0
    for t in range(1, len(x) + 1):
        with scope(f"t={t}"):
            a = (b + W @ h + U @ Tensor(x[t - 1], name=f"x({t})")).named(f"a({t})")
            h = a.tanh().named(f"h({t})")
            o = (c + V @ h).named(f"o({t})")
            L = softmax_cross_entropy(o, y[t - 1]).named(f"L({t})")
        loss = loss + L
    return loss


loss = rnn_loss(x, y, **params)
loss.backward()                                 # BPTT: generic backprop on the unrolled loop
print(f"L = {loss.item():.4f}")
params["W"].grad

# %% [markdown]
# `W` is used at every step, so `W.grad` is the sum of six contributions, one per step;
# the engine adds them up because it accumulates gradients into a shared leaf. Is it
# right? `gradcheck` compares every entry with central finite differences, in float64:

# %%
gradcheck(lambda *p: rnn_loss(x, y, *p), list(params.values()))

# %% [markdown]
# ## 2. The unrolled graph, the red path, and two weight scales
#
# `draw(loss)` draws the graph that computed a loss (here over three steps, to keep it
# small). Time runs left to right, one box per step; inside a step the data flows up from
# `W @ h(t-1)` and `U @ input` (the data x(t)) to `L(t)`, and the losses add up along the top. The parameters sit below, drawn once, with an edge
# into every step that uses them: that sharing is why `W.grad` is a sum over time. Each
# box shows its gradient `g = dL/d(value)`, coloured by its size; each edge carries the
# formula that sends the gradient back along it.
#
# The **red edges** carry `h(t-1)` into step t. They are the path BPTT walks back: from
# `L(3)` down to `h(3)`, then along the red edge into step 2 (`dh(2) = W^T da(3)`), and on
# into step 1, multiplying by one step's Jacobian each time.

# %%
from autograd_mini.visualize import draw

short = rnn_loss(x[:3], y[:3], **params)
draw(short)                   # a graphviz.Digraph: shown inline, .source is the DOT text

# %% [markdown]
# That product of Jacobians, `diag(1 - h(t)^2) W` once per step, is why gradients vanish
# or explode over long sequences. `gradient_flow` reads |dL/dh(t)| off the tape of one
# run, and each step's share of every parameter's gradient; `plot_flow` draws them. Two
# runs of the same network (H = 32, T = 50) differ only in the scale of `W`: at 0.5 the
# gradient from the last loss dies out within a few steps back, at 4 it grows instead
# (tanh saturates, which keeps it from growing without bound).

# %%
from autograd_mini.models import GoodfellowRNN
from autograd_mini.visualize import gradient_flow
from autograd_mini.visualize.plots import plot_flow

runs = []
for w_scale in (0.5, 4.0):
    model = GoodfellowRNN.init(D=D, H=32, C=C, scale=w_scale, seed=1)
    xs, ys = GoodfellowRNN.example_data(T=50, D=D, C=C, seed=1)
    run = model.forward(xs, ys)
    runs.append((f"W scale {w_scale}", gradient_flow(run.loss, last_loss=run.losses[-1])))
plot_flow(runs, title="|dL/dh(t)| back through 50 steps, and each step's share of W, U, V")

# %% [markdown]
# ## 3. The book's equations against autodiff
#
# Section 10.2.2 of the book derives the same gradients by hand, as equations 10.18 to
# 10.28. `autograd_mini.models.claims.book` computes each right-hand side exactly as
# printed, from the forward values, and compares it with autodiff on 23 networks (sizes,
# lengths and seeds varied; autodiff itself checked against finite differences):

# %%
from autograd_mini.models.claims import book

book.equations_table();

# %% [markdown]
# Every equation holds but one. 10.21 is printed as
#
#     grad_h(t) L = W^T (grad_h(t+1) L) diag(1 - h(t+1)^2) + V^T grad_o(t) L
#
# With column vectors, `W^T (grad_h(t+1) L)` is a column of H numbers and
# `diag(1 - h(t+1)^2)` an H x H matrix: a column times a matrix is not defined unless
# H = 1. On our own run, with the gradients autodiff kept on `h(t)` and `o(t)`
# (`GoodfellowRNN` is the loop of chapter 1 with `retain_grad()` on them):

# %%
run = GoodfellowRNN(**params).forward(x, y)
run.loss.backward()
t = 3                                       # any step before the last; run.h[t - 1] is h(t)
h_next, dh_next = run.h[t].data, run.h[t].grad            # h(t+1) and dL/dh(t+1)
W, V = params["W"].data, params["V"].data
try:
    (W.T @ dh_next[:, None]) @ np.diag(1 - h_next**2)      # as printed, with a column
except ValueError as e:
    print("as printed:", e)
ordered = W.T @ np.diag(1 - h_next**2) @ dh_next + V.T @ run.o[t - 1].grad
print("in the right order: ", ordered)
print("dL/dh(t) by autodiff:", run.h[t - 1].grad)

# %% [markdown]
# The diagonal Jacobian of tanh has to act on the gradient before `W^T` does:
# `W^T diag(1 - h(t+1)^2) grad_h(t+1) L`. Written that way it agrees with autodiff to
# rounding. (`autograd-mini check book --claim 10.21 --show` prints every value side by side.)

# %% [markdown]
# ## 4. Your own network, your own formula
#
# Now a network no book derives for you: an Elman RNN whose state also reaches two steps
# ahead, through its own weights `S`,
#
#     h(t) = tanh(W h(t-1) + S h(t-2) + U x(t)),     L = sum_t |h(t) - y(t)|^2 / 2.
#
# By hand: h(s) reaches the loss directly, through h(s+1) and through h(s+2), so
#
#     g(s) = dL/dh(s) = h(s) - y(s) + W^T d(s+1) + S^T d(s+2),   d(s) = (1 - h(s)^2) * g(s),
#
# computed from the last step back. `check_formula` judges a formula like this one against
# autodiff on a grid of networks (sizes, lengths, seeds), as chapter 3 judged the book's.
# It needs the network as a plain loop that `probe`s the values the formula reads, and the
# formula as a function of a *bench* `b`, which gives those values (`b.v("h(3)")`), the
# parameters (`b.v("W")`) and the data.

# %%
from autograd_mini.models import check_formula


def skip_rnn(case):
    """The network at one case of the grid (case.H, case.T, case.seed)."""
    r = np.random.default_rng(case.seed)
    H, T = case.H, case.T
    p = {"W": r.normal(0, 0.6, (H, H)), "S": r.normal(0, 0.6, (H, H)),
         "U": r.normal(0, 0.6, (H, 3))}
    xs, ys = r.normal(size=(T, 3)), r.normal(size=(T, H))

    def forward(p, probe):
        h1 = h2 = Tensor(np.zeros(H))                # h(t-1) and h(t-2)
        loss = 0
        for t in range(1, T + 1):
            a = p["W"] @ h1 + p["S"] @ h2 + p["U"] @ Tensor(xs[t - 1])
            h1, h2 = probe(f"h({t})", a.tanh()), h1
            loss = loss + 0.5 * ((h1 - Tensor(ys[t - 1])) ** 2).sum()
        return loss
    return p, forward, {"y": ys}


def dL_dh(b, t, skip=True):
    """g(t) by hand, from the last step back to t."""
    g, d = {}, {}
    for s in range(b.T, t - 1, -1):
        g[s] = b.v(f"h({s})") - b.data["y"][s - 1]
        if s + 1 <= b.T:
            g[s] = g[s] + b.v("W").T @ d[s + 1]
        if s + 2 <= b.T and skip:
            g[s] = g[s] + b.v("S").T @ d[s + 2]
        d[s] = (1 - b.v(f"h({s})") ** 2) * g[s]
    return g[t]


grid = {"H": [4, 1, 2], "T": [6, 1, 2, 3], "seed": [0, 1, 2]}
right = check_formula(skip_rnn, dL_dh, "h({t})", grid, steps="each")
print(right.verdict, f"(max rel err {right.max_rel_err:.1e} over {right.cases} comparisons)")

# %% [markdown]
# Now the mistake everyone makes once: forget the skip's share of the gradient (drop the
# `S^T d(s+2)` term, as if the network were a plain Elman RNN).

# %%
wrong = check_formula(skip_rnn, lambda b, t: dL_dh(b, t, skip=False), "h({t})", grid,
                      steps="each")
print(wrong.verdict, "--", wrong.why)
print(wrong.condition)
print("counter-example:", wrong.counterexample["text"])

# %% [markdown]
# The verdict is `wrong`, and the counter-example is the smallest network where the
# skip carries gradient: T = 3 and t = 1, where h(1) reaches h(3) directly. With T <= 2
# or at the last two steps nothing comes through the skip, so the formula agrees there:
# a check on short sequences alone would have passed it. A slip with a name gets that
# name: the residual written `y - h` instead of `h - y` flips every term,

# %%
def dL_dh_flipped(b, t):
    return -dL_dh(b, t)                          # what y(s) - h(s) gives, carried back


sign = check_formula(skip_rnn, dL_dh_flipped, "h({t})", grid, steps="each")
print(sign.verdict, "--", sign.why)

# %% [markdown]
# `print(right)` gives the full table that `autograd-mini check` prints for the sources,
# and `right.markdown()` a report; docs/check_formula.md has more.
#
# ## 5. The compiler writes the backward program
#
# `autograd_mini.compile(f)` runs `f` once, records every op, finds the step that repeats,
# and writes the forward and backward passes as plain NumPy source: the BPTT loop you would
# write by hand. The compiled function gives the same loss and, after `backward()`, the
# same `.grad` as the eager loop of chapter 1.

# %%
step = autograd_mini.compile(rnn_loss)

for p in params.values():
    p.zero_grad()
out = step(x, y, *params.values())
out.backward()
compiled_grads = {n: p.grad for n, p in params.items()}

for p in params.values():
    p.zero_grad()
rnn_loss(x, y, **params).backward()
print("loss:", out.item(), "traces:", step.traces)
print("max |compiled - eager| over the gradients:",
      max(float(np.abs(compiled_grads[n] - p.grad).max()) for n, p in params.items()))

# %% [markdown]
# The backward half of the generated source. Each line is a rule's registered formula
# with the names filled in (its comment is the formula as registered); the steps are one
# `for` loop whose text does not depend on T, and whatever does not depend on the
# recurrence is done once for all steps, before or after it. `h[t]` is h(t); a `d` in
# front of a name is the gradient of L with respect to it (`mv` names a matrix-vector
# product, such as `W @ h(t-1)`).

# %%
source = step.source()
backward_source = source[source.index("    def backward("):]
print(backward_source)

# %% [markdown]
# Hold it next to chapter 3. The loop's lines that multiply by `1 - h ** 2` and then by
# `W` are 10.21 in the order that works, `diag(1 - h(t)^2)` first and `W^T` after
# (`vecmat(g, W)` is `W^T g` for a column `g`): the generated code could not be written in
# the printed order either. The parameters' gradients, 10.22-10.28's sums over t, are
# computed outside the loop, each one sum or one matrix product over all the steps at once:

# %%
lines = [line.strip() for line in backward_source.splitlines()]
for above, line in zip([""] + lines, lines):
    # tanh's derivative (its formula comment says 1 - out), W^T g, and the parameters' sums
    if not line.startswith("#") and ("1 - out" in above or "vecmat(" in line
                                     or line.startswith(("dU =", "dW =", "dV =", "db =", "dc ="))):
        print(line)

# %% [markdown]
# And the time it saves, on a longer run (T = 200, H = 32): forward and backward, eager
# against compiled.

# %%
big = GoodfellowRNN.init(D=D, H=32, C=C, seed=2).parameters()
xb, yb = GoodfellowRNN.example_data(T=200, D=D, C=C, seed=2)
fast = autograd_mini.compile(rnn_loss)
fast(xb, yb, *big.values()).backward()        # the first call traces


def per_call(f, reps=5):
    start = time.perf_counter()
    for _ in range(reps):
        f(xb, yb, *big.values()).backward()
    return (time.perf_counter() - start) / reps


eager_s, compiled_s = per_call(rnn_loss), per_call(fast)
print(f"eager {eager_s * 1e3:.1f} ms, compiled {compiled_s * 1e3:.1f} ms per forward+backward "
      f"({eager_s / compiled_s:.1f}x)")

# %% [markdown]
# ## 6. RTRL and BPTT: one gradient, two directions
#
# BPTT runs the loop forward, keeps every step, and walks back from the loss: one
# vector-Jacobian product per step, memory growing with T. Real-time recurrent learning
# (Williams and Zipser, 1989) goes forward only: it carries the sensitivity
# P(t) = dh(t)/dθ of the state to every parameter entry along with the state,
#
#     P(t) = diag(1 - h(t)^2) (W P(t-1) + direct term of step t),
#
# and adds `dL(t)/dh(t) P(t)` to the gradient as it goes. Both are the same sum of products
# of Jacobians, bracketed from the other end; in autodiff words, BPTT is reverse mode and
# RTRL is forward mode with one tangent per parameter entry. `autograd_mini.jvp` is forward
# mode: for one step it gives the tangent of h(t) along a direction of h(t-1), which is the
# step's Jacobian times that direction:

# %%
Wn, Un, bn = (params[n].data for n in ("W", "U", "b"))


def one_step(h):
    return (Tensor(bn) + Tensor(Wn) @ h + Tensor(Un) @ Tensor(x[0])).tanh()


h0, v = rng.normal(size=H), rng.normal(size=H)
value, tangent = autograd_mini.jvp(one_step, [h0], [v])
print("jvp:                 ", tangent)
print("jacobian(step) @ v:  ", autograd_mini.jacobian(one_step, h0) @ v)

# %% [markdown]
# `autograd_mini.models.rtrl` computes the textbook RNN's gradient three ways: BPTT
# (`loss.backward()`), RTRL by the engine's forward mode (`jvp`, one step at a time,
# tangents batched over all P parameter entries), and RTRL by the classical recursion in
# NumPy. The same gradient, to rounding:

# %%
from autograd_mini.models import rtrl

theta, xr, yr = rtrl.problem(H=8, T=40)
g_bptt = rtrl.bptt(theta, xr, yr)
print("RTRL (forward mode) vs BPTT:", f"{rtrl.agreement(rtrl.rtrl_forward_mode(theta, xr, yr), g_bptt):.1e}")
print("RTRL (by hand) vs BPTT:     ", f"{rtrl.agreement(rtrl.rtrl_by_hand(theta, xr, yr), g_bptt):.1e}")

# %% [markdown]
# What each costs. Per step, BPTT does a vector-matrix product (about n^2 multiply-adds
# for n hidden units), RTRL a matrix-matrix product with P ~ n^2 columns (about n^4). In
# memory it is the other way round: BPTT keeps every step (linear in T), RTRL only P(t)
# (independent of T).

# %%
import tracemalloc

from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits


def seconds_per_step(f, n, T=20):
    """The best of three runs, on one BLAS thread (as `autograd-mini rtrl` times them)."""
    th, xs_, ys_ = rtrl.problem(H=n, T=T, D=n, C=n)
    best = np.inf
    with threadpool_limits(1):
        for _ in range(3):
            start = time.perf_counter()
            f(th, xs_, ys_)
            best = min(best, time.perf_counter() - start)
    return best / T


def peak_bytes(f, T, n=8):
    th, xs_, ys_ = rtrl.problem(H=n, T=T)
    tracemalloc.start()
    f(th, xs_, ys_)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


ns, Ts = [4, 8, 16, 32], [25, 50, 100, 200]
routes = {"BPTT": rtrl.bptt, "RTRL, forward mode": rtrl.rtrl_forward_mode,
          "RTRL, by hand": rtrl.rtrl_by_hand}
fig = Figure(figsize=(10, 3.6), layout="constrained")
left, right_ax = fig.subplots(1, 2)
for label, f in routes.items():
    left.loglog(ns, [seconds_per_step(f, n) * 1e3 for n in ns], "o-", label=label)
    right_ax.plot(Ts, [peak_bytes(f, T) / 1024 for T in Ts], "o-", label=label)
left.set(xlabel="hidden units n (input and output size too)", ylabel="ms per step",
         title="time per step against n")
left.set_xticks(ns, labels=[str(n) for n in ns])
left.minorticks_off()
right_ax.set(xlabel="sequence length T", ylabel="peak KiB (tracemalloc)",
             title="memory of one gradient against T (n = 8)")
left.legend()
fig

# %% [markdown]
# BPTT's time per step barely moves at these sizes (a few dozen small NumPy calls, whose
# fixed cost dominates), while RTRL's climbs steeply with n once the arithmetic outweighs
# that fixed cost (the hand-written recursion, a handful of calls per step, is even the
# cheapest at n <= 8). BPTT's memory grows in proportion to T while RTRL's stays flat. That trade is why BPTT trains networks and RTRL
# remains the textbook alternative for online learning with small states.
# `autograd-mini rtrl` measures the same at more sizes, and docs/rtrl.md explains it.
