"""docs/check_formula.md's example runs as printed, and its two verdicts are right for a
reason checked without autodiff: central finite differences of the loss with respect to
an offset on h(t)."""
import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from autograd_mini import Tensor, no_grad
from autograd_mini.models.claims.framework import Case, Network
from autograd_mini.models.probe import Probe

DOC = Path(__file__).resolve().parents[1] / "docs" / "check_formula.md"


@pytest.fixture(scope="module")
def example():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    scope, out = {}, io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), scope)        # noqa: S102 (our own doc)
    scope["printed"] = out.getvalue()
    return scope


def test_the_right_formula_holds_and_the_wrong_one_is_wrong_with_a_why(example):
    right, wrong = example["right"], example["wrong"]
    assert right.verdict == "holds" and right.max_rel_err < 1e-12 and right.report.fd_ok
    assert wrong.verdict == "wrong" and wrong.why and wrong.corrected_ok
    assert wrong.counterexample["rel_err"] > 1e-3
    lines = example["printed"].splitlines()
    assert lines[0] == "holds" and lines[1].startswith("wrong -- not a sign")
    assert "source yours: dL/dh(t), no relu'" in example["printed"]
    assert "# Your formula" in wrong.markdown() and wrong.record()["verdict"] == "wrong"


def fd_dL_dh(network, case, t, eps=1e-6):
    """dL/dh(t) by central differences on an offset added to h(t) (no autodiff)."""
    net = network(case)
    net = net if isinstance(net, Network) else Network(*net)
    params = {n: Tensor(a) for n, a in net.params.items()}

    def loss(offset):
        with no_grad():
            return float(net.forward(params, Probe({f"h({t})": offset})).data)
    H = case.H
    out = np.zeros(H)
    for i in range(H):
        e = np.zeros(H)
        e[i] = eps
        out[i] = (loss(e) - loss(-e)) / (2 * eps)
    return out


def test_the_verdicts_agree_with_finite_differences(example):
    """At the wrong formula's counter-example, finite differences side with autodiff: the
    formula with relu' matches them, the one without does not."""
    ex = example["wrong"].counterexample
    case, t = Case(**ex["case"]), ex["t"]
    fd = fd_dL_dh(example["network"], case, t)
    np.testing.assert_allclose(np.ravel(ex["autodiff"]), fd, rtol=1e-6, atol=1e-9)
    assert not np.allclose(np.ravel(ex["claimed"]), fd, rtol=1e-4, atol=1e-9)
