"""Source 002: "How to derive BPTT algorithm", a question, an answer and two comments on a
Stack Exchange site (May 2017).

A scalar, many-to-one RNN over two steps t = 0, 1 with s_{-1} given. The question writes
each step with its own parameters u_t, w_t (tied: one u, one w), no biases:

    a_t = x_t u_t    b_t = s_{t-1} w_t    z_t = a_t + b_t    s_t = func(z_t)   (sig or tanh)
    q = s_1 v_1      o = softmax(q)       E = x-entropy(o)

The answer rewrites it with biases k and c:  z_t = u x_t + w s_{t-1} + k,  q = s_1 v + c.

A softmax over a single number is constantly 1 (exp(q) / exp(q)), so o = 1, E = -y log 1 = 0
for every parameter value: every gradient is exactly zero and every formula "verifies".
The tool says so (verdict ``degenerate``). To still judge the derivation, each formula is
also checked on the network a binary many-to-one classifier would use, o = sigmoid(q) with
binary cross-entropy E' = -(y log o + (1 - y) log(1 - o)): labels ending in "[sigmoid]".

Axes: ``form`` (the question's network, or the answer's with k, c), ``act`` (func: the
source's sigmoid or tanh, and the identity, which the second comment's s1 = u x1 + w s0
silently assumes), ``y`` (the label, for the sigmoid reading), ``seed``. The network has
exactly two steps, as the source writes it; the two-term formulas are for that length.
"""
import numpy as np

from autograd_mini import Tensor, scope

from ..probe import passthrough
from .framework import Claim, Network, Source, View, cite

FORMS = ("question", "answer")
ACTS = ("sigmoid", "tanh", "identity")
AS_WRITTEN, SIGMOID = "E", "E'"          # the two losses: as written, and the sigmoid reading


# ====================================================================== the network
def _act(z, act):
    return z.sigmoid() if act == "sigmoid" else z.tanh() if act == "tanh" else z


def forward(p, x, s_prev, y, act="sigmoid", form="question", probe=passthrough):
    """The many-to-one RNN over t = 0, 1. p: {"u", "w", "v"} (and "k", "c" for the answer's
    form), 0-d Tensors; x: (2,) inputs; s_prev: s_{-1}; y: the label (1 or 0).

    Returns E + E', where E = -y log softmax([q]) is the loss as written (always 0) and E'
    the binary cross-entropy of sigmoid(q); both are probed ("E", "E'")."""
    s = probe("s(-1)", Tensor(s_prev))
    for t in (0, 1):
        with scope(f"t={t}"):
            x_t = probe(f"x({t})", Tensor(x[t]))
            u_t, w_t = probe(f"u({t})", p["u"]), probe(f"w({t})", p["w"])   # tied copies
            z = u_t * x_t + w_t * s                   # a_t + b_t
            if form == "answer":
                z = z + p["k"]
            z = probe(f"z({t})", z)
            s = probe(f"s({t})", _act(z, act))
    q = s * p["v"]
    if form == "answer":
        q = q + p["c"]
    q = probe("q", q)
    o = probe("o", q.reshape(1).softmax())            # softmax over the one number q
    E = probe(AS_WRITTEN, -(y * o.log()).sum())       # cross-entropy with the one class
    o_sig = probe("o'", q.sigmoid())
    E_sig = probe(SIGMOID, -(y * o_sig.log() + (1 - y) * (1 - o_sig).log()))
    return E + E_sig


def build(case):
    rng = np.random.default_rng(case.seed)
    params = {"u": rng.normal(), "w": rng.normal(), "v": rng.normal(0, 1.5)}
    if case.form == "answer":
        params.update(k=rng.normal(0, 0.5), c=rng.normal(0, 0.5))
    x, s_prev = rng.normal(size=2), rng.normal(0, 0.5)

    def fwd(p, probe):
        return forward(p, x, s_prev, float(case.y), case.act, case.form, probe)
    return Network(params, fwd)


# ====================================================================== what claims read
def _v(b, name):
    return float(b.v(name))


def slope(b, t):
    """ds_t/dz_t from s_t: sig' = s(1 - s), tanh' = 1 - s^2, identity' = 1."""
    s = _v(b, f"s({t})")
    return {"sigmoid": s * (1 - s), "tanh": 1 - s * s, "identity": 1.0}[b.case.act]


def dE_do_do_dq(b, loss):
    """dE/do * do/dq for the loss ``loss``: as written, softmax over one number gives
    do/dq = o (1 - o) = 0; the sigmoid reading gives (-y/o + (1-y)/(1-o)) o (1 - o)."""
    y = float(b.case.y)
    if loss == AS_WRITTEN:
        o = float(b.v("o")[0])
        return (-y / o) * (o * (1 - o))
    o = _v(b, "o'")
    return (-y / o + (1 - y) / (1 - o)) * (o * (1 - o))


def _head(b, loss):
    """dE/do * do/dq * dq/ds_1 * ds_1/dz_1 (the common prefix of every chain)."""
    return dE_do_do_dq(b, loss) * _v(b, "v") * slope(b, 1)


def sum_of_copies(P, loss):
    return lambda b, t: b.grad(f"{P}(1)", of=loss) + b.grad(f"{P}(0)", of=loss)


def chain_u1(loss):
    """dE/do do/dq dq/ds_1 ds_1/dz_1 dz_1/da_1 da_1/du_1 = ... v_1 s_1' 1 x_1."""
    return lambda b, t: _head(b, loss) * 1 * _v(b, "x(1)")


def chain_u0(loss):
    """... dz_1/db_1 db_1/ds_0 ds_0/dz_0 dz_0/da_0 da_0/du_0 = ... 1 w_1 s_0' 1 x_0."""
    return lambda b, t: _head(b, loss) * 1 * _v(b, "w") * slope(b, 0) * 1 * _v(b, "x(0)")


def final_u(loss):
    """dE/do do/dq v_1 ds_1/dz_1 (x_1 + w_1 ds_0/dz_0 x_0)."""
    return lambda b, t: _head(b, loss) * (_v(b, "x(1)") + _v(b, "w") * slope(b, 0)
                                          * _v(b, "x(0)"))


def final_w(loss):
    """dE/do do/dq v_1 ds_1/dz_1 (s_0 + w_1 ds_0/dz_0 s_{-1})."""
    return lambda b, t: _head(b, loss) * (_v(b, "s(0)") + _v(b, "w") * slope(b, 0)
                                          * _v(b, "s(-1)"))


def gut_u(loss):
    """The asker's doubt, 'w1 should not be in here': (x_1 + ds_0/dz_0 x_0)."""
    return lambda b, t: _head(b, loss) * (_v(b, "x(1)") + slope(b, 0) * _v(b, "x(0)"))


def answer_u(loss):
    """dL/do do/ds_1 ds_1/du_1 + dL/do do/ds_1 ds_1/ds_0 ds_0/du_0, every partial the
    immediate one: ds_1/du_1 = s_1' x_1, ds_1/ds_0 = s_1' w, ds_0/du_0 = s_0' x_0."""
    def f(b, t):
        dL_ds1 = dE_do_do_dq(b, loss) * _v(b, "v")            # dL/do do/ds_1
        return (dL_ds1 * slope(b, 1) * _v(b, "x(1)")
                + dL_ds1 * (slope(b, 1) * _v(b, "w")) * slope(b, 0) * _v(b, "x(0)"))
    return f


def answer_w(loss):
    """The same for w: ds_1/dw_1 = s_1' s_0, ds_0/dw_0 = s_0' s_{-1}."""
    def f(b, t):
        dL_ds1 = dE_do_do_dq(b, loss) * _v(b, "v")
        return (dL_ds1 * slope(b, 1) * _v(b, "s(0)")
                + dL_ds1 * (slope(b, 1) * _v(b, "w")) * slope(b, 0) * _v(b, "s(-1)"))
    return f


def do_ds1_chain(loss):
    """do/ds1 = do/dq * dq/ds1 = (do/dq by autodiff of the output map) * v."""
    def f(b, t):
        return do_dq(b, loss) * _v(b, "v")
    return f


def do_dq(b, loss):
    if loss == AS_WRITTEN:
        fn, key = (lambda q: q.reshape(1).softmax()), "do/dq (softmax)"
    else:
        fn, key = (lambda q: q.sigmoid()), "do/dq (sigmoid)"
    return float(np.ravel(b.local_jacobian(key, fn, b.v("q")))[0])


def do_ds1_actual(loss):
    """do/ds_1 by autodiff of s_1 -> o."""
    def f(b, t):
        v = Tensor(b.v("v"))
        c = Tensor(b.v("c")) if b.has("c") else 0.0
        if loss == AS_WRITTEN:
            fn, key = (lambda s: (s * v + c).reshape(1).softmax()), "do/ds1 (softmax)"
        else:
            fn, key = (lambda s: (s * v + c).sigmoid()), "do/ds1 (sigmoid)"
        return float(np.ravel(b.local_jacobian(key, fn, b.v("s(1)")))[0])
    return f


def ds1_ds0(b, t):
    """ds_1/ds_0 by autodiff of the step s_0 -> s_1 = func(u x_1 + w s_0 (+ k))."""
    u, w, x1, act = b.v("u"), b.v("w"), b.v("x(1)"), b.case.act
    k = b.v("k") if b.has("k") else 0.0
    return b.local_jacobian("ds1/ds0", lambda s: _act(Tensor(u * x1 + k) + Tensor(w) * s, act),
                            b.v("s(0)"))


def grad(P, loss):
    return lambda b, t: b.grad(P, of=loss)


# ====================================================================== the claims
_CONSTANT = ("as written E never changes: a softmax over one number is exp(q)/exp(q) = 1, "
             "so every gradient is 0")


def _pair(label, statement, claimed, actual, actual_text, where, why="", **kw):
    """The claim as written (on E, degenerate) and on the sigmoid reading (E')."""
    # as written nothing can confirm a corrected formula either: it is given only below
    return [Claim(label, statement, claimed=claimed(AS_WRITTEN), actual=actual(AS_WRITTEN),
                  actual_text=actual_text.format(E="E"), where=where, why=_CONSTANT),
            Claim(label + " [sigmoid]", statement + "  (o = sigmoid(q), binary "
                  "cross-entropy)", claimed=claimed(SIGMOID), actual=actual(SIGMOID),
                  actual_text=actual_text.format(E="E'"), where=where + ", sigmoid reading",
                  why=why, **{k: (v(SIGMOID) if callable(v) else v) for k, v in kw.items()})]


Q, A, C = "question", "answer", "comment"
CLAIMS = [
    *_pair("dE/du = sum", "dE/du = dE/du_1 + dE/du_0 (the tied copies of u summed)",
           lambda E: sum_of_copies("u", E), lambda E: grad("u", E),
           "d{E}/du by autodiff (u shared by both steps)", Q),
    *_pair("dE/du_1", "dE/du_1 = dE/do do/dq dq/ds_1 ds_1/dz_1 dz_1/da_1 da_1/du_1",
           chain_u1, lambda E: grad("u(1)", E), "d{E}/du_1 by autodiff (step 1's copy)", Q),
    *_pair("dE/du_0", "dE/du_0 = dE/do do/dq dq/ds_1 ds_1/dz_1 dz_1/db_1 db_1/ds_0 "
           "ds_0/dz_0 dz_0/da_0 da_0/du_0", chain_u0, lambda E: grad("u(0)", E),
           "d{E}/du_0 by autodiff (step 0's copy)", Q),
    *_pair("dE/du (final)", "dE/du = dE/do do/dq v_1 ds_1/dz_1 (x_1 + w_1 ds_0/dz_0 x_0) "
           "('gathering like terms', 'making substitutions', 'a nice, clean formula')",
           final_u, lambda E: grad("u", E), "d{E}/du by autodiff", Q),
    *_pair("dE/dw (final)", "dE/dw = dE/do do/dq v_1 ds_1/dz_1 (s_0 + w_1 ds_0/dz_0 s_{-1})",
           final_w, lambda E: grad("w", E), "d{E}/dw by autodiff", Q),
    *_pair("w1 not in it?", "'My gut says w1 should not be in here': dE/du = dE/do do/dq v_1 "
           "ds_1/dz_1 (x_1 + ds_0/dz_0 x_0)", gut_u, lambda E: grad("u", E),
           "d{E}/du by autodiff", Q + " (the asker's doubt)",
           why="missing factor: drops w_1, but x_0 reaches E only through b_1 = s_0 w_1",
           corrected=final_u, corrected_text="keep w_1: (x_1 + w_1 ds_0/dz_0 x_0); x_0 "
           "reaches E only through w_1 s_0"),
    *_pair("dL/du (answer)", "dL/du = sum_t dL/du_t = dL/do do/ds_1 ds_1/du_1 + dL/do "
           "do/ds_1 ds_1/ds_0 ds_0/du_0", answer_u, lambda E: grad("u", E),
           "d{E}/du by autodiff", A),
    *_pair("dL/dw (answer)", "dL/dw = sum_t dL/dw_t = dL/do do/ds_1 ds_1/dw_1 + dL/do "
           "do/ds_1 ds_1/ds_0 ds_0/dw_0", answer_w, lambda E: grad("w", E),
           "d{E}/dw by autodiff", A),
    *_pair("do/ds1", "do/ds1 = do/dq * dq/ds1 (why the answer has fewer terms)",
           do_ds1_chain, do_ds1_actual, "do/ds_1 by autodiff (jacobian)", C + " (2nd)"),
    Claim("ds1/ds0 = w", "'Since s1 = u x1 + w s0, ds1/ds0 = w'", claimed=lambda b, t: b.v("w"),
          actual=ds1_ds0, actual_text="ds_1/ds_0 by autodiff (jacobian of one step)",
          where=C + " (2nd)", corrected=lambda b, t: slope(b, 1) * b.v("w"),
          corrected_text="ds1/ds0 = func'(z_1) w (the comment drops func: s1 = func(u x1 + "
                         "w s0 + k))",
          why="missing factor: drops func'(z_1); the comment writes s1 = u x1 + w s0 "
              "without the activation"),
]

def view_steps(b):
    """Per step, on the sigmoid reading: the gradient on s_t and step t's contribution to
    u and w, with the shared gradients they sum to (as written every gradient is 0)."""
    ts = [0, 1]
    return View("per step, sigmoid reading: gradient on s_t and step t's contribution to u, "
                "w (as written every gradient is 0)", ts,
                {"dE'/ds_t": [b.grad(f"s({t})", of=SIGMOID) for t in ts],
                 "dE'/du_t": [b.grad(f"u({t})", of=SIGMOID) for t in ts],
                 "dE'/dw_t": [b.grad(f"w({t})", of=SIGMOID) for t in ts],
                 "dE/ds_t (as written)": [b.grad(f"s({t})", of=AS_WRITTEN) for t in ts]},
                {"dE'/du_t": ("dE'/du", b.grad("u", of=SIGMOID)),
                 "dE'/dw_t": ("dE'/dw", b.grad("w", of=SIGMOID))})


# A statement's sigmoid reading (its "[sigmoid]" twin) is the same place in the source.
def with_sigmoid_twins(places):
    """``places`` with each statement's "[sigmoid]" twin (see claims()) given the same
    line and LaTeX, where the twin exists."""
    labels = {c.label for c in CLAIMS}
    twins = {f"{k} [sigmoid]": v for k, v in places.items() if f"{k} [sigmoid]" in labels}
    return {**places, **twins}


cite(CLAIMS, with_sigmoid_twins({
    'dE/du = sum': (35, r'$\partial E/\partial u = \partial E/\partial u_1 + \partial E/\partial u_0$',
                    r'\partial E/\partial u = \partial E/\partial u_1 + \partial '
                    r'E/\partial u_0'),
    'dE/du_1': (37, r'\partial z_1/\partial a_1 * \partial a_1/\partial u_1$',
                r'\partial E/\partial u_1 = \partial E/\partial o * \partial '
                r'o/\partial q * \partial q/\partial s_1 * \partial s_1/\partial z_1 '
                r'* \partial z_1/\partial a_1 * \partial a_1/\partial u_1'),
    'dE/du_0': (39, r'\partial z_0/\partial a_0 * \partial a_0/\partial u_0$',
                r'\partial E/\partial u_0 = \partial E/\partial o * \partial '
                r'o/\partial q * \partial q/\partial s_1 * \partial s_1/\partial z_1 '
                r'* \partial z_1/\partial b_1 * \partial b_1/\partial s_0 * \partial '
                r's_0/dz_0 * \partial z_0/\partial a_0 * \partial a_0/\partial u_0'),
    'dE/du (final)': (51, r'(x_1 + w_1 * \partial s_0/\partial z_0 * x_0)',
                      r'\partial E/\partial u = \partial E/\partial o * \partial '
                      r'o/\partial q * v_1 * \partial s_1/\partial z_1 * (x_1 + w_1 * '
                      r'\partial s_0/\partial z_0 * x_0)'),
    'dE/dw (final)': (55, r'(s_0 + w_1 * \partial s_0/\partial z_0 * s_{-1})',
                      r'\partial E/\partial w = \partial E/\partial o * \partial '
                      r'o/\partial q * v_1 * \partial s_1/\partial z_1 * (s_0 + w_1 * '
                      r'\partial s_0/\partial z_0 * s_{-1})'),
    'w1 not in it?': (57, r'My gut says w1 should not be in here',
                      r'\partial E/\partial u = \partial E/\partial o * \partial '
                      r'o/\partial q * v_1 * \partial s_1/\partial z_1 * (x_1 + \partial '
                      r's_0/\partial z_0 * x_0)'),
    'dL/du (answer)': (147, r'\dfrac{\partial{L}}{\partial{u}}=\sum_t \dfrac{\partial{L}}{\partial{u_t}}',
                       r'\dfrac{\partial{L}}{\partial{u}}=\sum_t '
                       r'\dfrac{\partial{L}}{\partial{u_t}} = \dfrac{\partial L}{\partial '
                       r'o} \dfrac{\partial o}{\partial s_1} \dfrac{\partial s_1}{\partial '
                       r'u_1}+\dfrac{\partial L}{\partial o} \dfrac{\partial o}{\partial '
                       r's_1}\dfrac{\partial s_1}{\partial s_0}\dfrac{\partial '
                       r's_0}{\partial u_0}'),
    'dL/dw (answer)': (155, r'\dfrac{\partial{L}}{\partial{w}}=\sum_t \dfrac{\partial{L}}{\partial{w_t}}',
                       r'\dfrac{\partial{L}}{\partial{w}}=\sum_t '
                       r'\dfrac{\partial{L}}{\partial{w_t}} = \dfrac{\partial L}{\partial '
                       r'o} \dfrac{\partial o}{\partial s_1} \dfrac{\partial s_1}{\partial '
                       r'w_1}+\dfrac{\partial L}{\partial o} \dfrac{\partial o}{\partial '
                       r's_1}\dfrac{\partial s_1}{\partial s_0}\dfrac{\partial '
                       r's_0}{\partial w_0}'),
    'do/ds1': (158, r'do/ds1=do/dq*dq/ds1',
               r'do/ds_1 = do/dq * dq/ds_1'),
    'ds1/ds0 = w': (158, r'Since s1=ux1+ws0, ds1/ds0=w',
                    r's_1 = u x_1 + w s_0 \implies ds_1/ds_0 = w'),
}))

SOURCE = Source(
    id="002", title="How to derive BPTT algorithm",
    citation="'How to derive BPTT algorithm', a question (by 1point8zero61), an answer and "
             "comments on a Stack Exchange site, May 2017",
    file="002_355237dbcb06ead2.txt", build=build, claims=CLAIMS,
    base=dict(form="question", act="sigmoid", y=1, seed=0),
    vary=dict(form=["answer"], act=["tanh", "identity"], y=[0], seed=[1, 2]),
    notation={"form": "the question's network, or the answer's (with biases k, c)",
              "act": "func: sigmoid or tanh (the source's), or identity (none)",
              "y": "the label, 1 or 0"},
    views=[view_steps], random_cases=12,
    summary="A scalar many-to-one RNN: with the softmax over one number the loss never "
            "changes (degenerate); read with a sigmoid output every formula holds, the "
            "asker's doubt about w_1 is unfounded, and the comment's ds1/ds0 = w drops "
            "func'.")
