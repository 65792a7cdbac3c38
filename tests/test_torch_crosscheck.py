"""Optional cross-check against PyTorch's autograd (skipped when torch is absent): the same
expressions, the same float64 inputs, the same upstream gradient; values and gradients
must agree to rounding. An oracle written by other people, independent of our rules."""
import numpy as np
import pytest

from autograd_mini import Tensor, concat, softmax_cross_entropy, stack

torch = pytest.importorskip("torch")
F = torch.nn.functional

IDX = [0, 2, 2, 1, 0]
TARGETS = [2, 0, 1, 1]
SOFT = np.array([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [0.0, 0.0, 1.0]])

# name: (ours, torch's, input shapes); each side maps its own tensors to a tensor
CASES = {
    "broadcast add/mul/div": (lambda a, b: (a + b) * a / (b * b + 1),
                              lambda a, b: (a + b) * a / (b * b + 1), [(2, 1, 3), (4, 1)]),
    "reflected": (lambda a: 1 - 2 * a + 3 / (a * a + 1), lambda a: 1 - 2 * a + 3 / (a * a + 1),
                  [(3, 2)]),
    "pow": (lambda a: (a * a + 0.5) ** 1.5 + a ** 3, lambda a: (a * a + 0.5) ** 1.5 + a ** 3,
            [(5,)]),
    "elementwise": (lambda a: a.tanh() * a.sigmoid() + a.relu() + (a * a + 1).log() * a.exp(),
                    lambda a: a.tanh() * a.sigmoid() + a.relu() + (a * a + 1).log() * a.exp(),
                    [(3, 4)]),
    "matmul vector-matrix": (lambda a, b: a @ b, lambda a, b: a @ b, [(3,), (3, 4)]),
    "matmul matrix-vector": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (3,)]),
    "matmul batched 2-D @ 3-D": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (5, 3, 4)]),
    "matmul batch broadcast": (lambda a, b: a @ b, lambda a, b: a @ b,
                               [(2, 1, 2, 3), (3, 3, 2)]),
    "transpose": (lambda a: a.transpose(2, 0, 1) * 2 + a.T.T.transpose(2, 0, 1),
                  lambda a: a.permute(2, 0, 1) * 2 + a.permute(2, 1, 0).permute(2, 1, 0)
                  .permute(2, 0, 1), [(2, 3, 4)]),
    "reductions": (lambda a: a.sum(axis=(0, 2), keepdims=True) * a.mean(axis=1, keepdims=True),
                   lambda a: a.sum(dim=(0, 2), keepdim=True) * a.mean(dim=1, keepdim=True),
                   [(2, 3, 4)]),
    "embedding lookup": (lambda a: a[np.array(IDX)] * 2, lambda a: a[torch.tensor(IDX)] * 2,
                         [(3, 4)]),
    "slices": (lambda a: a[1:, ::2] + a[0, 1::2], lambda a: a[1:, ::2] + a[0, 1::2], [(3, 4)]),
    "reshape": (lambda a: a.reshape(4, 3) @ a, lambda a: a.reshape(4, 3) @ a, [(3, 4)]),
    "stack and concat": (lambda a, b: concat([stack([a, b], axis=1), a[None] * 1.0], axis=0),
                         lambda a, b: torch.cat([torch.stack([a, b], dim=1), a[None] * 1.0]),
                         [(2, 3), (2, 3)]),
    "softmax axis 0": (lambda a: a.softmax(axis=0), lambda a: a.softmax(dim=0), [(3, 4)]),
    "log_softmax": (lambda a: a.log_softmax(), lambda a: a.log_softmax(dim=-1), [(3, 4)]),
    "cross-entropy labels": (lambda a: softmax_cross_entropy(a, TARGETS),
                             lambda a: F.cross_entropy(a, torch.tensor(TARGETS)), [(4, 3)]),
    "cross-entropy sum": (lambda a: softmax_cross_entropy(a, TARGETS, reduction="sum"),
                          lambda a: F.cross_entropy(a, torch.tensor(TARGETS), reduction="sum"),
                          [(4, 3)]),
    "cross-entropy soft none": (
        lambda a: softmax_cross_entropy(a * 10, SOFT, reduction="none"),
        lambda a: F.cross_entropy(a * 10, torch.tensor(SOFT), reduction="none"), [(4, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_agree_with_pytorch(name):
    ours, theirs, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in shapes]

    mine = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*mine)
    g = rng.normal(size=out.shape)
    out.backward(g)

    ref = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref_out = theirs(*ref)
    ref_out.backward(torch.tensor(g))

    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=1e-12, atol=1e-13)
    for t, r in zip(mine, ref):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-11, atol=1e-13)
