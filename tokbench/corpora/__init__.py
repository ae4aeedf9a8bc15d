"""Corpora: named categories of documents, their loaders, and the one corpus-spec syntax.

A :class:`Corpus` maps category names (a FLORES-200 language, a programming language, a file) to
lists of documents, in insertion order, and remembers where they came from. Every command that
takes ``--corpus`` calls :func:`load_corpus`, so one spec string works everywhere
(``flores:eng_Latn,fra_Latn@both+code:python?max_bytes=100k``; the grammar is in
``docs/corpus-spec.md``). Loaders never return an empty category.

The package, module by module:

- :mod:`.corpus` — the :class:`Corpus` type: subsets, renaming, combining, byte-budget
  sampling, the signature;
- :mod:`.spec` — THE corpus-spec parser (:func:`parse_corpus_spec`, :func:`load_corpus`,
  :func:`load_corpus_parts`) and the registry of spec prefixes;
- :mod:`.loaders` — FLORES-200, the shared code files, JSONL, text files and folders, the
  bundled sample; :mod:`.hf_datasets` — any ``datasets.load_dataset`` source;
- :mod:`.languages` — FLORES codes and scripts, the code languages, named language sets;
- :mod:`.streaming` — :func:`stream_corpus`: the same specs as a :class:`CorpusStream` that
  reads its files a block at a time (:mod:`.sources`), with seeded-hash byte-budget sampling;
- :mod:`.reading` — gzip, UTF-8 decoding (``strict``/``replace``), lines, JSONL records.

Example:
    >>> corpus = load_corpus("sample:eng_Latn,python")
    >>> corpus.category_names
    ['eng_Latn', 'python']
    >>> small = corpus.sample(max_bytes=2_000, seed=0)
    >>> all(small.n_bytes(c) <= 2_000 for c in small.category_names)
    True
    >>> sorted(small.signature())[:4]
    ['bytes', 'categories', 'corpus', 'documents']
"""

from __future__ import annotations

from .corpus import Corpus, CorpusWarning
from .hf_datasets import load_hf_dataset
from .languages import (
    ATTACK_LANGUAGES,
    CODE_LANGUAGES,
    FLORES_CODE,
    LANGUAGES_30,
    is_flores_code,
    script_of,
)
from .loaders import (
    FloresSplit,
    code_languages,
    flores_languages,
    load_code,
    load_flores,
    load_jsonl,
    load_sample,
    load_text,
    sample_categories,
)
from .reading import Errors
from .spec import (
    SPEC_PREFIXES,
    CorpusSpec,
    load_corpus,
    load_corpus_parts,
    parse_corpus_spec,
    with_flores_split,
)
from .streaming import CorpusStream, stream_corpus

__all__ = [
    "CorpusWarning",
    "Corpus",
    "CorpusSpec",
    "CorpusStream",
    "stream_corpus",
    "Errors",
    "FloresSplit",
    "load_corpus",
    "load_corpus_parts",
    "parse_corpus_spec",
    "with_flores_split",
    "load_flores",
    "flores_languages",
    "load_code",
    "code_languages",
    "load_jsonl",
    "load_text",
    "load_hf_dataset",
    "load_sample",
    "sample_categories",
    "SPEC_PREFIXES",
    "ATTACK_LANGUAGES",
    "CODE_LANGUAGES",
    "FLORES_CODE",
    "LANGUAGES_30",
    "is_flores_code",
    "script_of",
]
