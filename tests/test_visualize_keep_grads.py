"""Tensor.backward(keep_grads=True): every op's node keeps its output gradient (for draw)."""
import numpy as np

from autograd_mini import Tensor


def test_keep_grads_leaves_the_output_gradient_on_every_node():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    h = x.tanh()
    y = (h * h).sum()
    y.backward(keep_grads=True)
    # By hand: dy/dh = 2h, dy/d(h*h) = 1 (every element), dy/dy = 1.
    np.testing.assert_allclose(h.node.grad, 2 * np.tanh(x.data))
    np.testing.assert_array_equal(y.node.grad, 1.0)
    np.testing.assert_allclose(x.grad, 2 * np.tanh(x.data) * (1 - np.tanh(x.data) ** 2))


def test_without_keep_grads_nodes_keep_nothing():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    h = x.tanh()
    h.sum().backward()
    assert h.node.grad is None
