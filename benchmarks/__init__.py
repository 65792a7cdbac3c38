"""Benchmarks: autograd_mini against hand-written NumPy BPTT (and PyTorch when installed).

Scripts that print tables; never imported by the tests. Run ``python -m benchmarks.bptt``.
"""
