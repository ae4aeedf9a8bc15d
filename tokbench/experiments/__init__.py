"""Experiments: the only layer that trains AND measures over grids, each grid a list of
independent tasks run through :func:`tokbench.executor.map` (``jobs`` worker processes, an
optional task cache; neither changes a number).

* :mod:`.optimal_vocab` — per-language optimal vocabulary size (Arnett et al. 2025);
* :mod:`.mixture_controlled` — controlled data-mixture trials (Hayase et al. 2024, §4);
* :mod:`.trainers_comparison` — tokenizer families at equal vocabulary, bytes per token held out.

Every experiment returns a result following :class:`tokbench.results.Result`
(``to_frame()``, ``signature``, ``notes``).

Example:
    >>> from tokbench.experiments.trainers_comparison import compare_trainers   # doctest: +SKIP
    >>> compare_trainers("eng_Latn,rus_Cyrl", code="python", vocab_sizes=[1000], jobs=2)  # doctest: +SKIP
"""
