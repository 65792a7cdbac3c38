"""Edge formulas in the operands' own names: ``dW = g @ h(2)^T`` rather than ``dA = g @ B^T``.

A rule's formula names its inputs by letters (A, B, x, o); on a picture the reader wants
the tensors that were actually there. Each input's letter is read off the left-hand
side of its own formula (``dA = ...``), and every letter is then replaced, as a whole
word, by the display name of the operand at that position. Compound names are put in
brackets (``d(W @ h(2)) = g``) so the formula still parses as the reader expects.
"""
import re

_LHS = re.compile(r"^\s*d([A-Za-z_]\w*)\s*=")
_PLAIN = re.compile(r"^[\w.]+(\([^()]*\))?(\^T)?$")     # W, h(2), x(t-1), W^T


def input_name(text):
    """"dA = g @ B^T" -> "A"; None when the text does not start with ``d<name> =``."""
    m = _LHS.match(text or "")
    return m.group(1) if m else None


def _bracketed(name):
    return name if _PLAIN.match(name) else f"({name})"


def with_operands(texts, names):
    """Each formula of ``texts`` (one per input, in order) with the inputs' letters replaced
    by ``names`` (the operands' display names, None where unknown).

    ``["dA = g @ B^T", "dB = A^T @ g"]`` with ``["W", "h(2)"]`` gives
    ``["dW = g @ h(2)^T", "dh(2) = W^T @ g"]``. The texts are returned unchanged when
    the inputs' letters cannot be told apart (a variadic rule's ``dx_i``).
    """
    letters = [input_name(t) for t in texts]
    if None in letters or len(set(letters)) != len(letters):
        return list(texts)
    swap = {a: _bracketed(n) for a, n in zip(letters, names) if n}
    if not swap:
        return list(texts)
    pattern = re.compile(r"(?<![\w.])(d?)(" + "|".join(map(re.escape, swap)) + r")(?!\w)")

    def sub(m):          # keep the d of "dA": it becomes "dW"
        return m.group(1) + swap[m.group(2)]
    return [pattern.sub(sub, text) for text in texts]
