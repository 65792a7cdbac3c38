"""The sources' hand-derived BPTT formulas, each judged against autodiff.

``framework/`` is the machinery (benches, the judge, the condition search, reports);
each ``source_NNN.py`` (and ``book.py``) holds one document's network and claims under
one contract (see ``framework/__init__.py``); ``cli.py`` is ``autograd-mini check``.
"""
