"""Re-rolling: find the time step that repeats, so that the program is one loop for any T.

A trace of an RNN is the same few ops T times over. Two passes find the loops:

1. *Kinds*: each op gets a key (rule, shapes, parameters, with the ints of an index left
   open); a period P is a distance at which keys repeat, and the longest stretch of ops
   equal to the ops P later is a candidate loop of P ops per step.
2. *Wiring*: in a loop, step k's op j must read the same things as every other step's:
   a value of its own step (``local``), of the step d before (``carry``: h(t-1), or
   h(t-2)), of an earlier loop at a step affine in k (``outer``: the backward direction of
   a bidirectional RNN read in forward order), or one value for all steps (``ext``: a
   parameter, a constant). The first d steps of a carry read their initial values
   instead (h(0)). Index ints must be affine in k (``x[t]``, ``x[T - 1 - t]``).

A stretch that fails the wiring is cut where it fails, and the rest searched again.
"""
import numpy as np

from .trace import Ref


class Num:
    """A number that may vary with the step (an index, an outer loop's step)."""

    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Num)

    def __hash__(self):
        return 7


class Aff:
    """An int that is ``a + b*k`` at step k of its loop (b = 0: the same every step)."""

    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def at(self, k):
        return self.a + self.b * k

    def __repr__(self):
        return f"Aff({self.a}, {self.b})"


class RefC:
    """A parameter that is a value of the program, by its class (see Loop)."""

    __slots__ = ("c",)

    def __init__(self, c):
        self.c = c

    def __repr__(self):
        return f"RefC({self.c})"

    def __eq__(self, other):
        return isinstance(other, RefC) and self.c == other.c

    def __hash__(self):
        return hash(self.c)


class _Arr:
    """A constant array parameter: equal to another of the same content."""

    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a

    def __eq__(self, other):
        return isinstance(other, _Arr) and (other.a is self.a or (
            other.a.shape == self.a.shape and np.array_equal(other.a, self.a)))

    def __hash__(self):
        return hash(self.a.shape)


class Loop:
    """A re-rolled loop: ``n`` steps of the ``P`` ops starting at op ``start``.

    ``ins[j]``: per input of body op j its class: ("L", j', slot), ("C", d, j', slot),
    ("E", value), ("O", loop, j', slot, (a, b)) with the outer step a + b*k.
    ``params[j]``: the parameters, with Refs replaced by the classes of their values and
    varying ints by (a, b). ``flows[j]``: the steady flows. ``init``: {(j, slot, row): class}
    for the rows -d..-1 that the first steps' carries read. ``base``: the number of rows
    before step 0's in a stacked buffer (the longest carry, at least 1)."""

    def __init__(self, ident, start, P, n):
        self.id, self.start, self.P, self.n = ident, start, P, n
        self.ins, self.params, self.flows, self.init = [], [], [], {}
        self.base = 1

    def op(self, j, k):
        return self.start + k * self.P + j

    def __repr__(self):
        return f"Loop({self.id}: {self.n} steps of {self.P} ops from op {self.start})"


def _key(op, vals):
    index_like = op.rule.name in ("getitem", "view")
    return (op.rule.name, tuple(vals[v].shape for v in op.ins),
            tuple(vals[v].dtype.str for v in op.ins),
            tuple(vals[o].shape for o in op.outs),
            tuple(_norm(p, index_like) for p in op.params))


def _norm(p, index_like):
    if isinstance(p, Ref):
        return "R"
    if isinstance(p, tuple):
        return tuple(_norm(q, index_like) for q in p)
    if isinstance(p, slice):
        return ("S", _norm(p.start, index_like), _norm(p.stop, index_like),
                _norm(p.step, index_like))
    if isinstance(p, np.ndarray):
        return ("A", p.shape, p.dtype.str)
    if index_like and isinstance(p, (int, np.integer)) and not isinstance(p, bool):
        return "#"
    return repr(p)


def find_loops(prog):
    """The loops of ``prog``, in program order (a list of Loop)."""
    ops, vals = prog.ops, prog.vals
    table = {}
    ids = np.array([table.setdefault(_key(op, vals), len(table)) for op in ops], dtype=np.int64)
    loops, where = [], {}
    spans, retry = [(0, len(ops))], []
    while spans or retry:
        if not spans:               # stretches that failed may wire once other loops
            spans, retry = retry, None  # are known (an outer read): once more
        lo, hi = spans.pop()
        run = _longest_run(ids[lo:hi])
        if run is None:
            continue
        s, P, n = run
        s += lo
        f = _first_good(prog, s, P, n, where)
        if n - f >= 2:
            loop = Loop(len(loops), s + f * P, P, n - f)
            _classify(prog, loop, where)
            loops.append(loop)
            for k in range(loop.n):
                for j in range(P):
                    for slot, o in enumerate(ops[loop.op(j, k)].outs):
                        where[o] = (loop, j, k, slot)
            spans += [(lo, loop.start), (s + n * P, hi)]
        elif retry is not None:
            retry.append((lo, hi))
        else:
            spans += [(lo, s), (s + n * P, hi)]
        spans = [sp for sp in spans if sp[1] - sp[0] >= 2]
    loops.sort(key=lambda lp: lp.start)
    for i, lp in enumerate(loops):
        lp.id = i
    return loops


def _longest_run(seq):
    """(start, P, steps) of the stretch of whole steps that repeats best, or None."""
    N = len(seq)
    if N < 2:
        return None
    order = np.argsort(seq, kind="stable")
    bounds = np.flatnonzero(np.diff(seq[order])) + 1
    cands = set()
    for group in np.split(order, bounds):
        if len(group) >= 3:
            gaps = np.diff(group)
            cands.add(int(np.bincount(gaps).argmax()))
            if len(gaps) >= 2:
                cands.add(int(np.bincount(gaps[:-1] + gaps[1:]).argmax()))
    best = None
    for P in sorted(c for c in cands if 1 <= c <= N // 2):
        eq = np.concatenate(([0], (seq[:-P] == seq[P:]).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(eq))
        if not len(edges):
            continue
        starts, ends = edges[::2], edges[1::2]
        k = int(np.argmax(ends - starts))
        length = int(ends[k] - starts[k])
        steps = (length + P) // P
        if steps >= 2 and (best is None or steps * P > best[1] * best[2]):
            best = (int(starts[k]), P, steps)
    return best


def _first_good(prog, s, P, n, where):
    """The earliest step f such that steps f..n-1 of the stretch wire alike (if steps
    f..n-1 do, so do f+1..n-1: a binary search)."""
    probe = Loop(-1, s, P, n)

    def good(f):
        probe.start, probe.n = s + f * P, n - f
        return _classify(prog, probe, where, quick=True)
    if good(0):                 # the usual case: every step alike
        return 0
    lo, hi = 1, n - 1           # good(n - 1) holds: one step wires like itself
    while lo < hi:
        mid = (lo + hi) // 2
        if good(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _classify(prog, loop, where, quick=False):
    """Fill loop's classes from its steps; False when the steps do not wire alike."""
    vals = prog.vals
    P, n = loop.P, loop.n
    lo, hi = loop.start, loop.start + P * n
    steady = [_step(prog, loop, j, n - 1, where, lo, hi) for j in range(P)]
    nums = [[[] for _ in _numbers(t)] for t in steady]
    counted = [j for j in range(P) if nums[j]]
    init = {}
    for k in range(n):
        for j in range(P):
            t = _step(prog, loop, j, k, where, lo, hi) if k < n - 1 else steady[j]
            if t != steady[j] and not _same(t, steady[j], k, init, vals):
                return False
        for j in counted:
            t = _step(prog, loop, j, k, where, lo, hi)
            for slot, x in zip(nums[j], _numbers(t)):
                slot.append(x)
    affine = []
    for j in range(P):
        affine.append([])
        for seq in nums[j]:
            a, b = seq[0], (seq[1] - seq[0]) if n > 1 else 0
            if any(x != a + b * k for k, x in enumerate(seq)):
                return False
            affine[j].append((a, b))
    if quick:
        return True
    loop.base = max([1] + [c[1] for t in steady for c in t[0] if c[0] == "C"])
    loop.init = init
    for j in range(P):
        cls, flows, params = steady[j]
        it = iter(affine[j])
        loop.ins.append(tuple(_fill(c, it) for c in cls))
        loop.params.append(tuple(_fill(p, it) for p in params))
        loop.flows.append(flows)
    return True


def _step(prog, loop, j, k, where, lo, hi):
    op = prog.ops[loop.op(j, k)]
    cls = tuple(_cls(prog, v, k, loop, where, lo, hi) for v in op.ins)
    params = tuple(_pcls(prog, p, k, loop, where, lo, hi, op.rule.name in ("getitem", "view"))
                   for p in op.params)
    return cls, op.flows, params


def _cls(prog, v, k, loop, where, lo, hi):
    val = prog.vals[v]
    if val.kind == "op":
        i = val.src
        if lo <= i < hi:
            kk, j = divmod(i - loop.start, loop.P)
            slot = prog.ops[i].outs.index(v)
            return ("L", j, slot) if kk == k else ("C", k - kk, j, slot)
        if v in where:
            other, j, kk, slot = where[v]
            return ("O", other, j, slot, Num(kk))
    return ("E", v)


def _pcls(prog, p, k, loop, where, lo, hi, index_like):
    if isinstance(p, Ref):
        return RefC(_cls(prog, p.v, k, loop, where, lo, hi))
    if isinstance(p, tuple):
        return tuple(_pcls(prog, q, k, loop, where, lo, hi, index_like) for q in p)
    if isinstance(p, slice):
        return slice(*(_pcls(prog, q, k, loop, where, lo, hi, index_like)
                       for q in (p.start, p.stop, p.step)))
    if index_like and isinstance(p, (int, np.integer)) and not isinstance(p, bool):
        return Num(int(p))
    if isinstance(p, np.ndarray):
        return _Arr(p)
    return p


def _numbers(t):
    """The Num leaves of a step's classes, in a fixed order."""
    found = []

    def walk(x):
        if isinstance(x, Num):
            found.append(x.x)
        elif isinstance(x, RefC):
            walk(x.c)
        elif isinstance(x, tuple):
            for y in x:
                walk(y)
        elif isinstance(x, slice):
            walk(x.start), walk(x.stop), walk(x.step)
    walk((t[0], t[2]))
    return found


def _fill(x, it):
    """x with each Num replaced by its (a, b)."""
    if isinstance(x, Num):
        return Aff(*next(it))
    if isinstance(x, RefC):
        return RefC(_fill(x.c, it))
    if isinstance(x, _Arr):
        return x.a
    if isinstance(x, tuple):
        return tuple(_fill(y, it) for y in x)
    if isinstance(x, slice):
        return slice(_fill(x.start, it), _fill(x.stop, it), _fill(x.step, it))
    return x


def _same(t, steady, k, init, vals):
    """Does step k's wiring ``t`` match the steady step's? Records the initial values
    that early steps read in place of a carry."""
    cls, flows, params = t
    scls, sflows, sparams = steady
    if len(cls) != len(scls) or not _eq(params, sparams):
        return False
    for c, s, f, sf in zip(cls, scls, flows, sflows):
        if s[0] == "C" and k < s[1] and c[0] in ("E", "O"):
            row = (s[2], s[3], k - s[1])
            if init.setdefault(row, c) != c and not _eq(init[row], c):
                return False
            if f != sf and (f or vals[c[1]].grad if c[0] == "E" else f):
                return False
            continue
        if not _eq(c, s) or f != sf:
            return False
    return True


def _eq(a, b):
    if isinstance(a, Num) or isinstance(b, Num):
        return isinstance(a, Num) and isinstance(b, Num)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, slice) and isinstance(b, slice):
        return _eq((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if isinstance(a, RefC) and isinstance(b, RefC):
        return _eq(a.c, b.c)
    if isinstance(a, Loop) or isinstance(b, Loop):
        return a is b
    return type(a) is type(b) and a == b
