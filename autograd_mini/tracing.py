"""The one thing ``compile`` needs from the engine: a tracer, per thread, that sees ops.

While ``autograd_mini.compile`` traces a function, ``current.tracer`` is set (in that
thread only). ``apply`` reports every op to it, recorded on the tape or not (ops on
constants matter too: ``x[t]`` of an argument is data the program must read afresh), and
reading a value into Python (``.item()``, ``float()``, ``bool()``, ``.numpy()``) asks it
first, so that a branch on a traced value is an error instead of being frozen silently.
Outside a trace both checks are one attribute test.
"""
import threading


class _Current(threading.local):
    tracer = None


current = _Current()


def reading(what):
    """Called where a Tensor's value leaves for Python; an error while tracing."""
    if current.tracer is not None:
        current.tracer.reading(what)
