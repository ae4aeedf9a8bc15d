"""Metrics: one module per family, pure functions over (tokenizer, corpus) returning result
objects with ``.to_frame()`` and a :class:`~tokbench.results.Signature`."""
