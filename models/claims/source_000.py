"""Source 000: "Backpropagation Through Time Error Computation", a question on Cross
Validated (August 2016) with its answer, working through Goodfellow et al.'s BPTT by hand.

The network, as the question writes it (column vectors, the 4-5-3 example sizes):

    a(t) = b + W h(t-1) + U x(t)      h(t) = tanh(a(t))
    o(t) = c + V h(t)                 yhat(t) = softmax(o(t))
    L(t) = -sum_i y_i(t) ln yhat_i(t)   (y(t) in R^C: "the actual values"),  L = sum_t L(t)

The question's target y(t) is any vector of R^3, so the grid tries one-hot targets,
probability rows ("soft") and non-negative counts that do not sum to 1: that is what
separates the question's matrix form from the book's yhat - 1_{i,y}.
"""
import numpy as np

from autograd_mini import Tensor

from ..goodfellow import GoodfellowRNN
from .framework import Claim, Condition, Network, Source, View, cite, mm

TARGETS = ("one-hot", "soft", "counts")


def targets(kind, T, C, seed):
    """y(t) rows, shape (T, C): one-hot, a probability row, or counts whose sum is not 1."""
    rng = np.random.default_rng(seed + 2000)
    if kind == "one-hot":
        _, labels = GoodfellowRNN.example_data(T=T, C=C, seed=seed)
        return np.eye(C)[labels]
    if kind == "soft":
        return rng.dirichlet(np.ones(C), size=T)
    if kind == "counts":
        y = rng.integers(0, 3, size=(T, C)).astype(np.float64)
        y[:, 0] += 2                    # every row sums to at least 2
        return y
    raise ValueError(f"unknown target kind {kind!r}, expected one of {TARGETS}")


def build(case):
    """The question's network at ``case`` (D, H, C, T, seed, target)."""
    D, H, C, T = case.D, case.H, case.C, case.T
    model = GoodfellowRNN.init(D=D, H=H, C=C, seed=case.seed)
    params = {n: p.data for n, p in model.parameters().items()}
    x, _ = GoodfellowRNN.example_data(T=T, D=D, C=C, seed=case.seed)
    Y = targets(case.target, T, C, case.seed)

    def forward(p, probe):
        U, W, V, b, c = (p[n] for n in GoodfellowRNN.PARAMS)
        h = Tensor(np.zeros(H))
        L = 0
        for t in range(1, T + 1):
            x_t = probe(f"x({t})", Tensor(x[t - 1]))
            y_t = probe(f"y({t})", Tensor(Y[t - 1]))
            a = probe(f"a({t})", b + W @ h + U @ x_t)
            h = probe(f"h({t})", a.tanh())
            o = probe(f"o({t})", c + V @ h)
            yhat = probe(f"yhat({t})", o.softmax())
            L = L + probe(f"L({t})", -(y_t * yhat.log()).sum())      # as the question writes
        return L
    return Network(params, forward)


# ---------------------------------------------------------------------- what claims read
def yhat(b, t):
    return b.v(f"yhat({t})")


def y(b, t):
    return b.v(f"y({t})")


def dyhat_dh(b, t):
    """d yhat(t) / d h(t), (C, H), by autodiff of the step's own map h -> softmax(c + V h)."""
    c, V = Tensor(b.v("c")), Tensor(b.v("V"))
    return b.local_jacobian(("dyhat/dh", t), lambda h: (c + V @ h).softmax(), b.v(f"h({t})"))


def _S(b, t):
    return np.exp(b.v(f"o({t})")).sum()


# ---------------------------------------------------------------------- the claims
def loss_expanded(b, t):
    o = b.v(f"o({t})")
    return -np.sum(y(b, t) * (o - np.log(np.sum(np.exp(o)))))


def o_as_displayed(b, t):
    """c + V (tanh(a_1), ..., tanh(a_4))^T: the display lists 4 of the 5 hidden units."""
    a = b.v(f"a({t})")
    return b.v("c")[:, None] + mm(("V", b.v("V")), ("(tanh(a_1), ..., tanh(a_4))^T",
                                                    np.tanh(a[:-1])))


def o_all_units(b, t):
    return b.v("c") + b.v("V") @ np.tanh(b.v(f"a({t})"))


def do_elementwise(b, t):
    """-[y_i (1 - yhat_i) + sum_{k != i} y_k (-yhat_i)] for each i (the question's o_1 line)."""
    yh, yy = yhat(b, t), y(b, t)
    return np.array([-(yy[i] * (1 - yh[i]) + sum(yy[k] * (-yh[i])
                                                  for k in range(len(yy)) if k != i))
                     for i in range(len(yy))])


def do_matrix(b, t):
    yh = yhat(b, t)
    M = yh[:, None] - np.eye(len(yh))     # rows (yhat_i - 1 on the diagonal, yhat_i elsewhere)
    return mm(("M", M), ("y", y(b, t)))


def do_book(b, t):
    return yhat(b, t) - y(b, t)           # 1_{i,y(t)} is the one-hot row of the target


def dy1_dh1_typo(b, t):
    """The first expansion, with v_{1i} inside every exponential (as printed)."""
    V, c, h = b.v("V"), b.v("c"), b.v(f"h({t})")
    v1h = V[0] @ h
    S = _S(b, t)
    e1 = np.exp(c[0] + v1h)
    printed = sum(V[k, 0] * np.exp(c[k] + v1h) for k in range(len(c)))
    return (V[0, 0] * e1 * S - printed * e1) / S ** 2


def dy1_dh1_compact(b, t):
    V, o = b.v("V"), b.v(f"o({t})")
    S = _S(b, t)
    return (V[0, 0] * np.exp(o[0]) * S - np.sum(V[:, 0] * np.exp(o)) * np.exp(o[0])) / S ** 2


def dy1_dh1_products(b, t):
    V, yh = b.v("V"), yhat(b, t)
    return V[0, 0] * yh[0] - V[0, 0] * yh[0] * yh[0] - sum(
        V[k, 0] * yh[k] * yh[0] for k in range(1, len(yh)))


def dy1_dh1_factored(b, t):
    V, yh = b.v("V"), yhat(b, t)
    return -yh[0] * (V[0, 0] * (yh[0] - 1) + sum(V[k, 0] * yh[k] for k in range(1, len(yh))))


def dy1_dh_vector(b, t):
    V, yh = b.v("V"), yhat(b, t)
    e1 = np.eye(len(yh))[0]
    return -yh[0] * mm(("V^T", V.T), ("(yhat_1 - 1, yhat_2, yhat_3)", yh - e1))


def _M(b, t):
    yh = yhat(b, t)
    return yh[:, None] - np.eye(len(yh))


def dyhat_dh_question(b, t):
    yh = yhat(b, t)
    return mm(("-diag(yhat)", -np.diag(yh)), ("V^T", b.v("V").T), ("M", _M(b, t)))


def dyhat_dh_corrected(b, t):
    return mm(("-V^T", -b.v("V").T), ("M", _M(b, t)), ("diag(yhat)", np.diag(yhat(b, t))))


def dh_answer_line1(b, t):
    g = b.grad(f"yhat({t})")                          # dL/dyhat_i(tau)
    return -mm(("(dL/dyhat)^T", g[None, :]), ("dyhat/dh", dyhat_dh(b, t)))


def dh_chain_rule(b, t):
    g = b.grad(f"yhat({t})")
    return mm(("(dL/dyhat)^T", g[None, :]), ("dyhat/dh", dyhat_dh(b, t)))


def dh_answer_line2(b, t):
    w = y(b, t) / yhat(b, t)
    return -mm(("(y / yhat)^T", w[None, :]), ("dyhat/dh", dyhat_dh(b, t)))


def dh_after_cancelling(b, t):
    """sum_i (dL/dyhat_i) grad_h yhat_i with each column grad_h yhat_i = -yhat_i V^T (yhat -
    e_i) (the question's) and dL/dyhat_i = -y_i / yhat_i: the yhat_i cancel, leaving
    sum_i y_i V^T (yhat - e_i)."""
    yh, yy, V = yhat(b, t), y(b, t), b.v("V")
    eye = np.eye(len(yh))
    return sum(yy[i] * mm(("V^T", V.T), (f"yhat - e_{i + 1}", yh - eye[i]))
               for i in range(len(yh)))


def do_any_target(b, t):
    return yhat(b, t) * y(b, t).sum() - y(b, t)


def dh_of(b, t):
    return b.grad(f"h({t})")


def do_of(b, t):
    return b.grad(f"o({t})")


def jac_entry(b, t):
    return dyhat_dh(b, t)[0, 0]


def jac_row(b, t):
    return dyhat_dh(b, t)[0]


def jac_denominator(b, t):
    return dyhat_dh(b, t).T


SUMS_TO_ONE = Condition("the target y(t) sums to 1 (one-hot or a probability row)",
                        lambda case, t: case.target in ("one-hot", "soft"), assumption=True)

CLAIMS = [
    Claim("dL/dL(t) = 1", "dL/dL^(t) = 1: the recursion starts at the nodes preceding L",
          claimed=lambda b, t: np.array(1.0), actual=lambda b, t: b.grad(f"L({t})"),
          actual_text="dL/dL(t) by autodiff", steps="each", where="question"),
    Claim("L expanded", "L = -sum_i y_i ln yhat_i = -sum_i y_i (o_i - ln sum_k exp o_k)",
          claimed=loss_expanded, actual=lambda b, t: b.v(f"L({t})"),
          actual_text="the network's L(t) (forward value)", steps="each", where="question"),
    Claim("o(t) written out", "(o_1, o_2, o_3)^T = (c_1, c_2, c_3)^T + [v_11 ... v_35] "
          "(tanh(a_1), tanh(a_2), tanh(a_3), tanh(a_4))^T", claimed=o_as_displayed,
          actual=lambda b, t: b.v(f"o({t})"), actual_text="the network's o(t) (forward value)",
          steps="each", corrected=o_all_units,
          corrected_text="c + V tanh(a(t)) with all H = 5 entries tanh(a_1), ..., tanh(a_5)",
          where="question", why="the displayed column has 4 entries, V has 5 columns"),
    Claim("dL/do_1", "dL/do_1(t) = -[y_1 (1 - yhat_1) + y_2 (-yhat_1) + y_3 (-yhat_1)], "
          "and likewise for each o_i", claimed=do_elementwise, actual=do_of,
          actual_text="dL/do(t) by autodiff", steps="each", where="question"),
    Claim("matrix form", "dL/do(t) = [[yhat_1 - 1, yhat_1, yhat_1], [yhat_2, yhat_2 - 1, "
          "yhat_2], [yhat_3, yhat_3, yhat_3 - 1]] y(t)", claimed=do_matrix, actual=do_of,
          actual_text="dL/do(t) by autodiff", steps="each", where="question"),
    Claim("book 10.18", "(grad_o(t) L)_i = yhat_i(t) - 1_{i,y(t)} (the book, as the question "
          "quotes it)", claimed=do_book, actual=do_of, actual_text="dL/do(t) by autodiff",
          steps="each", where="question (quoting the book)", corrected=do_any_target,
          corrected_text="yhat(t) sum_i y_i(t) - y(t), which is the question's matrix form "
                         "(for any target)",
          why="the book's target is a class: 1_{i,y(t)} is a one-hot row, and the "
              "question's yhat sum_i y_i - y is yhat - y exactly when y sums to 1",
          note="1_{i,y(t)} read as the target row y(t)"),
    Claim("dyhat_1/dh_1 (expanded)", "dyhat_1/dh_1 = [v11 exp(c1 + sum_i v1i h_i) S - (v11 "
          "exp(c1 + sum_i v1i h_i) + v21 exp(c2 + sum_i v1i h_i) + v31 exp(c3 + sum_i v1i "
          "h_i)) exp(c1 + sum_i v1i h_i)] / S^2", claimed=dy1_dh1_typo, actual=jac_entry,
          actual_text="d yhat_1(tau)/d h_1(tau) by autodiff (jacobian)", steps="last",
          corrected=dy1_dh1_compact,
          corrected_text="v_k1 exp(c_k + sum_i v_ki h_i) = v_k1 exp(o_k) in the k-th term: "
                         "(v11 e^o1 S - (v11 e^o1 + v21 e^o2 + v31 e^o3) e^o1) / S^2",
          where="question",
          why="typo: v_1i inside exp(c_2 + ...) and exp(c_3 + ...), whose exponents are o_2 "
              "and o_3 (rows 2 and 3 of V); the next line, 'written a little more "
              "compactly', is right"),
    Claim("dyhat_1/dh_1 (compact)", "dyhat_1/dh_1 = (v11 exp(o1) S - (v11 exp(o1) + v21 "
          "exp(o2) + v31 exp(o3)) exp(o1)) / S^2", claimed=dy1_dh1_compact, actual=jac_entry,
          actual_text="d yhat_1(tau)/d h_1(tau) by autodiff (jacobian)", steps="last",
          where="question"),
    Claim("dyhat_1/dh_1 (products)", "dyhat_1/dh_1 = v11 yhat_1 - v11 yhat_1 yhat_1 - v21 "
          "yhat_2 yhat_1 - v31 yhat_3 yhat_1", claimed=dy1_dh1_products, actual=jac_entry,
          actual_text="d yhat_1(tau)/d h_1(tau) by autodiff (jacobian)", steps="last",
          where="question"),
    Claim("dyhat_1/dh_1 (factored)", "dyhat_1/dh_1 = -yhat_1 [v11 (yhat_1 - 1) + v21 yhat_2 "
          "+ v31 yhat_3]", claimed=dy1_dh1_factored, actual=jac_entry,
          actual_text="d yhat_1(tau)/d h_1(tau) by autodiff (jacobian)", steps="last",
          where="question"),
    Claim("dyhat_1/dh", "for yhat_1: dyhat_1/dh = -yhat_1 V^T (yhat_1 - 1, yhat_2, yhat_3)^T",
          claimed=dy1_dh_vector, actual=jac_row,
          actual_text="d yhat_1(tau)/d h(tau) by autodiff (row 1 of the jacobian)",
          steps="last", where="question"),
    Claim("dyhat/dh (matrix)", "-diag(yhat) V^T [[yhat_1 - 1, yhat_1, yhat_1], [yhat_2, "
          "yhat_2 - 1, yhat_2], [yhat_3, yhat_3, yhat_3 - 1]]", claimed=dyhat_dh_question,
          actual=jac_denominator,
          actual_text="d yhat(tau)/d h(tau) by autodiff, H x C (column i = dyhat_i/dh, the "
                      "layout of the line before)", steps="last",
          corrected=dyhat_dh_corrected,
          corrected_text="-V^T M diag(yhat), M = yhat 1^T - I (the diagonal factor on the "
                         "right); = (diag(yhat) - yhat yhat^T) V transposed",
          where="question", why="order: the diagonal factor belongs on the right"),
    Claim("answer, line 1", "grad_{h_1(tau)} L = -sum_i grad_{yhat_i(tau)} L "
          "grad_{h_1(tau)} yhat_i(tau)", claimed=dh_answer_line1, actual=dh_of,
          actual_text="dL/dh(tau) by autodiff", steps="last", corrected=dh_chain_rule,
          corrected_text="grad_h L = sum_i (dL/dyhat_i) grad_h yhat_i (the chain rule, no "
                         "minus: the minus belongs to dL/dyhat_i = -y_i / yhat_i)",
          where="answer", why="the chain rule has no minus; the minus belongs to "
                               "dL/dyhat_i = -y_i / yhat_i"),
    Claim("answer, line 2", "grad_{h_1(tau)} L = -sum_i y_i(tau) (1 / yhat_i(tau)) "
          "grad_{h_1(tau)} yhat_i(tau)", claimed=dh_answer_line2, actual=dh_of,
          actual_text="dL/dh(tau) by autodiff", steps="last", where="answer"),
    Claim("answer: -yhat_i cancel", "'these components -yhat_i's will be cancelled out when "
          "you compute grad_h(tau) L': sum_i (y_i / yhat_i) yhat_i V^T (yhat - e_i) = sum_i "
          "y_i V^T (yhat - e_i)", claimed=dh_after_cancelling, actual=dh_of,
          actual_text="dL/dh(tau) by autodiff", steps="last", where="answer"),
]

def per_step_view(b):
    """dL/dh(t) and dL/do(t) at each step, and the target's sum (what the book's form needs)."""
    ts = list(range(1, b.T + 1))
    return View("per step: the gradient on h(t) and o(t), and sum_i y_i(t)", ts,
                {"dL/dh(t)": [b.grad(f"h({t})") for t in ts],
                 "dL/do(t)": [b.grad(f"o({t})") for t in ts],
                 "sum y(t)": [y(b, t).sum() for t in ts]})


_Y1 = r"\hat{y}_1^{(\tau)}"
cite(CLAIMS, {
    "dL/dL(t) = 1": (19, r"\frac{\partial L}{\partial L^{(t)}} = 1",
                     r"\frac{\partial L}{\partial L^{(t)}} = 1"),
    "L expanded": (21, r"\ln\Big(\sum\limits_{i=1}^3 \exp",
                   r"L = -\sum_{i=1}^3 y_i^{(t)}\ln\big(\hat{y}_i^{(t)}\big) = -\sum_{i=1}^3 "
                   r"y_i^{(t)}\Big(o_i^{(t)} - \ln\sum_{k=1}^3 \exp\big(o_k^{(t)}\big)\Big)"),
    "o(t) written out": (17, r"\tanh\big(a_4^{(t)}\big)\end{pmatrix}",
                         r"\begin{pmatrix} o_1^{(t)}\\ o_2^{(t)}\\ o_3^{(t)} \end{pmatrix} = "
                         r"\begin{pmatrix} c_1\\ c_2\\ c_3\end{pmatrix} + \begin{pmatrix} "
                         r"v_{11} & \cdots & v_{15}\\ v_{21} & \cdots & v_{25}\\ v_{31} & "
                         r"\cdots & v_{35} \end{pmatrix} \begin{pmatrix} \tanh(a_1^{(t)})\\ "
                         r"\tanh(a_2^{(t)})\\ \tanh(a_3^{(t)})\\ \tanh(a_4^{(t)})\end{pmatrix}"),
    "dL/do_1": (21, r"-\Bigg[y_1^{(t)} \Big(1 - \hat{y}_1^{(t)}\Big)",
                r"\frac{\partial L}{\partial o_1^{(t)}} = -\Big[y_1^{(t)} \big(1 - "
                r"\hat{y}_1^{(t)}\big) + y_2^{(t)}\big(-\hat{y}_1^{(t)}\big) + y_3^{(t)}"
                r"\big(-\hat{y}_1^{(t)}\big) \Big]"),
    "matrix form": (21, r"\Big(\hat{y}_2^{(t)}-1\Big) & \hat{y}_2^{(t)}",
                    r"\begin{pmatrix} \hat{y}_1^{(t)}-1 & \hat{y}_1^{(t)} & \hat{y}_1^{(t)}\\ "
                    r"\hat{y}_2^{(t)} & \hat{y}_2^{(t)}-1 & \hat{y}_2^{(t)}\\ \hat{y}_3^{(t)} & "
                    r"\hat{y}_3^{(t)} & \hat{y}_3^{(t)}-1 \end{pmatrix} \begin{pmatrix}"
                    r"y_1^{(t)} \\y_2^{(t)}\\y_3^{(t)}\end{pmatrix}"),
    "book 10.18": (23, r"\hat{y}_i^{(t)} - \mathbf{1}_{i, y^{(t)}}",
                   r"\big(\nabla_{\mathbf{o}^{(t)}} L\big)_i = \frac{\partial L}{\partial "
                   r"o_i^{(t)}} = \hat{y}_i^{(t)} - \mathbf{1}_{i, y^{(t)}}"),
    "dyhat_1/dh_1 (expanded)": (25, r"v_{21}\exp\bigg(c_2^{(\tau)} + \sum\limits_{i=1}^5 "
                                    r"v_{1i}h_i^{(\tau)}\bigg)",
                                r"\frac{\partial " + _Y1 + r"}{\partial h_1} = \Big[v_{11}"
                                r"e^{c_1 + \sum_i v_{1i}h_i} S - \big(v_{11}e^{c_1 + \sum_i "
                                r"v_{1i}h_i} + v_{21}e^{c_2 + \sum_i v_{1i}h_i} + v_{31}"
                                r"e^{c_3 + \sum_i v_{1i}h_i}\big) e^{c_1 + \sum_i v_{1i}h_i}"
                                r"\Big] \Big/ S^2"),
    "dyhat_1/dh_1 (compact)": (25, r"\frac{v_{11}\exp(o_1^{(\tau)})\times S",
                               r"\frac{\partial " + _Y1 + r"}{\partial h_1} = \frac{v_{11}"
                               r"\exp(o_1) S - \big( v_{11}\exp(o_1) + v_{21}\exp(o_2) + "
                               r"v_{31}\exp(o_3)\big) \exp(o_1)}{S^2}"),
    "dyhat_1/dh_1 (products)": (25, r"v_{11} \hat{y}_1^{(\tau)} - v_{11} \hat{y}_1^{(\tau)} "
                                    r"\hat{y}_1^{(\tau)}",
                                r"\frac{\partial " + _Y1 + r"}{\partial h_1} = v_{11}\hat{y}_1"
                                r" - v_{11}\hat{y}_1\hat{y}_1 - v_{21}\hat{y}_2\hat{y}_1 - "
                                r"v_{31}\hat{y}_3\hat{y}_1"),
    "dyhat_1/dh_1 (factored)": (25, r"-\hat{y}_1^{(\tau)}\bigg[v_{11}\Big( "
                                    r"\hat{y}_1^{(\tau)}-1\Big)",
                                r"\frac{\partial " + _Y1 + r"}{\partial h_1} = -\hat{y}_1"
                                r"\big[v_{11}(\hat{y}_1-1) + v_{21}\hat{y}_2 + v_{31}"
                                r"\hat{y}_3\big]"),
    "dyhat_1/dh": (27, r"\hat{y}_1^{(\tau)}-1\\ \hat{y}_2^{(\tau)}\\ \hat{y}_3^{(\tau)}",
                   r"-\hat{y}_1^{(\tau)} V^\top \begin{pmatrix} \hat{y}_1^{(\tau)}-1\\ "
                   r"\hat{y}_2^{(\tau)}\\ \hat{y}_3^{(\tau)} \end{pmatrix}"),
    "dyhat/dh (matrix)": (29, r"-\begin{pmatrix} \hat{y}_1^{(\tau)} & 0 & 0",
                          r"-\operatorname{diag}(\hat{y}^{(\tau)})\, V^\top \begin{pmatrix} "
                          r"\hat{y}_1-1 & \hat{y}_1 & \hat{y}_1\\ \hat{y}_2 & \hat{y}_2-1 & "
                          r"\hat{y}_2\\ \hat{y}_3 & \hat{y}_3 & \hat{y}_3-1 \end{pmatrix}"),
    "answer, line 1": (41, r"&= -\sum_{i=1}^3 \nabla_{\hat{y}^{(\tau)}_i}L",
                       r"\nabla_{h^{(\tau)}_1}L = -\sum_{i=1}^3 \nabla_{\hat{y}^{(\tau)}_i}L\, "
                       r"\nabla_{h^{(\tau)}_1}\hat{y}^{(\tau)}_i"),
    "answer, line 2": (41, r"y_i^{(\tau)}\frac{1}{\color{red}{\hat{y}_i^{(\tau)}}}",
                       r"\nabla_{h^{(\tau)}_1}L = -\sum_{i=1}^3 y_i^{(\tau)}\frac{1}"
                       r"{\hat{y}_i^{(\tau)}} \nabla_{h^{(\tau)}_1}\hat{y}^{(\tau)}_i"),
    "answer: -yhat_i cancel": (40, "will be cancelled out when you compute",
                               r"\text{the components } -\hat{y}_i^{(\tau)} \text{ cancel in }"
                               r" \nabla_{h^{(\tau)}}L = \sum_i y_i^{(\tau)} V^\top "
                               r"(\hat{y}^{(\tau)} - e_i)"),
})

SOURCE = Source(
    id="000", title="Backpropagation Through Time Error Computation",
    citation="'Backpropagation Through Time Error Computation', a question and its answer "
             "on Cross Validated (stats.stackexchange.com), August 2016",
    file="000_44181f7bdc961c04.txt", build=build, claims=CLAIMS, hidden="H",
    base=dict(D=4, H=5, C=3, T=5, seed=0, target="one-hot"),
    vary=dict(D=[1, 2], H=[1, 2, 3], C=[2, 4], T=[1, 2, 5, 20], seed=[1, 2],
              target=["soft", "counts"]),
    notation={"D": "size of x(t) (4 in the example)", "H": "size of h(t) (5)",
              "C": "size of o(t) and y(t) (3)", "T": "sequence length tau",
              "target": "y(t): one-hot, a probability row (soft), or counts"},
    conditions=[SUMS_TO_ONE], views=[per_step_view],
    summary="Goodfellow's RNN worked by hand: dL/do(t), dyhat/dh(tau), dL/dh(tau).")
