"""A loop's backward taken K steps at a time, so that its gradient buffers keep K rows.

Without blocks every gradient with a row per step (``dh``, ``da``) keeps T rows, and the
parameters' gradients are one product over all steps after the backward loop. In blocks,
the backward runs over the steps ``t0 .. t1 - 1`` of one block at a time, the last block
first: the block's rows of each stacked gradient are worked out, the recurrence runs
backwards over them, and the block's products are added into ``dW``, ``dU``, ``db``.
The gradient buffers then hold K rows (plus the rows before the first step, where the
carries into the step before the block land: they are moved onto the next block's last
rows when it starts). Forward buffers keep their T rows and are read at ``t0:t1``.

Whether a loop is blocked depends on the size of one step's values, never on T (the text
must not change with T): small steps (a learner's goodfellow, the long benchmark) keep
the one-pass program; steps of at least ``MIN_ROW_BYTES`` run in blocks of ``K`` steps.
"""
import numpy as np

MIN_K = 24               # steps per block at least (a medium step, 32 x 256 float32, is 32 KiB)
BLOCK_BYTES = 2 ** 17    # or as many as make a buffer's block 128 KiB (fewer blocks, less Python)
MIN_ROW_BYTES = 2048     # below this a row per step costs less than the blocks' Python


class NoBlock(Exception):
    """Raised while generating when a loop's backward cannot run in blocks (a gradient
    row written outside the loop, a reversed index): the program is generated again
    with that loop in one pass."""

    def __init__(self, loop_id):
        super().__init__(loop_id)
        self.loop_id = loop_id


def eligible(prog, loop):
    """True when one step of the loop holds a value of at least MIN_ROW_BYTES."""
    return row_bytes(prog, loop) >= MIN_ROW_BYTES


def row_bytes(prog, loop):
    """The bytes of the biggest value of one step."""
    biggest = 0
    for j in range(loop.P):
        for o in prog.ops[loop.op(j, loop.n - 1)].outs:
            val = prog.vals[o]
            biggest = max(biggest, int(np.prod(val.shape)) * np.dtype(val.dtype).itemsize)
    return biggest


class Block:
    """The names and the bookkeeping of one loop's blocked backward."""

    def __init__(self, gen, loop):
        self.loop, self.base = loop, loop.base
        make = gen.names.make
        self.K, self.t0, self.t1, self.n, self.o = (make(x) for x in ("K", "t0", "t1", "n", "o"))
        k = max(MIN_K, BLOCK_BYTES // row_bytes(gen.prog, loop))
        gen.program_lines.append(f"{self.K} = {k}   # steps per block of the backward")
        self.bufs = set()        # gradient buffers with K rows (rows of the block)
        self.zero = []           # of those, the ones each block zeroes first
        self.outer = []          # lines before the blocks (the sums' zeros)
        self.sums = set()        # the sums made there: each block adds into them in place

    @staticmethod
    def shift(x, d):
        return x if not d else f"{x} - {d}"

    def rows(self, buf, d, mode):
        """Rows of buf for step t (mode "step") or for the block's steps, the carry d back."""
        if buf in self.bufs:
            if mode == "step":
                return self.shift(f"t - {self.o}", d)
            start = self.base - d
            return f"{start or ''}:{self.n}{f' + {start}' if start else ''}"
        if mode == "step":
            return self.shift("t", d)
        return f"{self.shift(self.t0, d)}:{self.shift(self.t1, d)}"

    def stack_slice(self, c0):
        """Rows t + c0 for the block's steps t."""
        def at(x):
            return x if c0 == 0 else f"{x} + {c0}" if c0 > 0 else f"{x} - {-c0}"
        return f"{at(self.t0)}:{at(self.t1)}"

    def wrap(self, gen, body, bufs_note, carried):
        """The block loop around ``body`` (lines), with each block's zeroing first."""
        b, n, o, base = self, self.n, self.o, self.base
        lines = list(self.outer)
        lines.append(f"# in blocks of {b.K} steps, the last block first: {bufs_note} keep "
                     f"{b.K} rows (row t - {o} is step t), the products are summed block by block")
        lines.append(f"for {b.t1} in range({gen.n_text(self.loop)} + {base}, {base}, -{b.K}):")
        inner = [f"{b.t0} = max({b.t1} - {b.K}, {base})",
                 f"{n}, {o} = {b.t1} - {b.t0}, {b.t0} - {base}"]
        for buf in self.zero:
            if buf in carried:
                inner.append(f"{buf}[{n}:{n} + {base}] = {buf}[:{base}]   # the carry into "
                             "the block's last steps, from the block after it")
                inner.append(f"{buf}[:{n}] = 0")
            else:
                inner.append(f"{buf}.fill(0)")
        return lines + ["    " + x for x in inner + body]
