"""Baseline trainers from the reference libraries, behind tokbench's trainer interface.

* ``spm-bpe`` / ``spm-unigram`` — SentencePiece BPE and Unigram (Kudo & Richardson 2018; Kudo
  2018), trained in memory by ``sentencepiece`` with the ``identity`` normalization (so text is
  counted as given) and byte fallback. Their file is the SentencePiece ``.model``;
  :meth:`TrainedTokenizer.save` writes that protobuf (``tokenizer.json`` becomes
  ``tokenizer.model``), which :func:`tokbench.load_tokenizer` reads and ``sentencepiece`` encodes.
* ``hf-unigram`` / ``hf-wordpiece`` — HF ``UnigramTrainer`` (Metaspace pretokenizer, ``<unk>``)
  and ``WordPieceTrainer`` (BERT pretokenizer, ``##`` continuation, ``[UNK]``), saved as the
  ``tokenizer.json`` that ``tokenizers`` writes.

They differ from tokbench's own trainers in that the reference library does the training; the
wrappers only check input, raise :class:`~tokbench.trainers.TrainingError` on impossible
requests, and load the result as a tokbench ``Tokenizer``.

Example:
    >>> t = train_hf_wordpiece(["low lower lowest"] * 5, vocab_size=40, progress=False)  # doctest: +SKIP
    >>> t.tokenizer.kind                                                                 # doctest: +SKIP
    'wordpiece'
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import TrainingError
from ..model.tokenizer import Tokenizer
from ._common import TrainedResult, check_vocab_size, training_texts

__all__ = ["TrainedTokenizer", "train_spm_bpe", "train_spm_unigram", "train_hf_unigram",
           "train_hf_wordpiece"]


@dataclass(eq=False)
class TrainedTokenizer(TrainedResult):
    """A trained tokenizer without a BPE training trace (a :class:`~tokbench.results.Result`;
    ``to_frame()`` is the vocabulary).

    ``save`` writes the format whose reference library encodes it (``file_suffix``); ``merges``
    is empty (use ``tokenizer.merges`` for SentencePiece BPE's recovered merge list).
    """

    tokenizer: Tokenizer
    stop_reason: str
    options: dict[str, Any] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)
    n_word_types: int = 0
    file_bytes: bytes | None = None
    file_suffix: str = ".json"
    merges: list[tuple[int, int]] = field(default_factory=list)

    def output_path(self, path: str | Path) -> Path:
        """Where :meth:`save` writes for ``path`` (the suffix follows the file format)."""
        target = Path(path)
        if self.file_suffix != ".json" and target.suffix != self.file_suffix:
            target = target.with_suffix(self.file_suffix)
        return target

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer file atomically; returns the path written."""
        if self.file_bytes is None:
            return self.tokenizer.save(path)
        from .._io import atomic_write

        target = self.output_path(path)
        with atomic_write(target, "wb") as handle:
            handle.write(self.file_bytes)
        return target


# ------------------------------------------------------------------------------------ helpers


def _describe(corpus_or_texts: Any, texts: Sequence[str]) -> dict[str, Any]:
    from ..corpora import Corpus

    if isinstance(corpus_or_texts, Corpus):
        return corpus_or_texts.signature()
    return {"corpus": "texts", "documents": len(texts), "bytes": sum(len(t.encode()) for t in texts)}


def _specials(special_tokens: Any) -> list[str]:
    if isinstance(special_tokens, str):
        special_tokens = [special_tokens]
    out: list[str] = []
    for k, tok in enumerate(special_tokens):
        if not isinstance(tok, str) or not tok:
            raise TrainingError(f"special token {k} ({tok!r}) must be a non-empty string")
        if tok not in out:
            out.append(tok)
    return out


# ----------------------------------------------------------------------------- SentencePiece


def _spm_lines(texts: Iterable[str], max_bytes: int) -> Iterable[str]:
    """SentencePiece reads sentences: one per line, at most ``max_bytes`` UTF-8 bytes."""
    for text in texts:
        for line in text.split("\n"):
            if not line.strip():
                continue
            while len(line.encode("utf-8")) > max_bytes:
                cut = max_bytes // 4  # characters: at most 4 bytes each
                yield line[:cut]
                line = line[cut:]
            yield line


def _run_spm_trainer(texts: list[str], options: dict[str, Any], vocab_size: int) -> bytes:
    """Train SentencePiece in memory; the ``.model`` bytes (a clear error when it fails)."""
    import io

    import sentencepiece as spm

    model = io.BytesIO()
    lines = list(_spm_lines(texts, options["max_sentence_length"]))
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, **options)
    except RuntimeError as err:
        message = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
        if "Vocabulary size" in message or "vocab_size" in message:
            raise TrainingError(
                f"SentencePiece cannot reach vocab_size {vocab_size} on this corpus ({message}); give "
                "more text, a smaller vocab_size, or allow_smaller=True"
            ) from None
        raise TrainingError(f"SentencePiece training failed: {message}") from None
    return model.getvalue()


def _spm_tokenizer(data: bytes, label: str) -> Tokenizer:
    """The tokbench model of in-memory ``.model`` bytes, encoding through ``sentencepiece``."""
    from ..formats.sentencepiece_model import load_sentencepiece

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trained.model"
        path.write_bytes(data)
        tok = load_sentencepiece(path, name=label)
        # The temporary file goes away: keep the model bytes for the reference encoder.
        tok.source_paths = ()
        tok.source_format = "trained"
    tok._reference_factory = lambda: _SpmBytesReference(data)
    if tok._merges_factory is not None:
        tok._merges = tok._merges_factory()  # recover now, while nothing else is pending
    return tok


def _train_spm(
    corpus_or_texts: Any,
    model_type: Literal["bpe", "unigram"],
    *,
    vocab_size: int,
    character_coverage: float,
    special_tokens: Any,
    allow_smaller: bool,
    progress: bool,
    name: str | None,
) -> TrainedTokenizer:
    vocab_size = check_vocab_size(vocab_size)
    texts = training_texts(corpus_or_texts)
    specials = _specials(special_tokens)
    n_fixed = 3 + 256 + len(specials)  # <unk> <s> </s>, byte fallback, user symbols
    if vocab_size <= n_fixed:
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: SentencePiece needs 3 control "
            f"pieces + 256 byte-fallback pieces + {len(specials)} special tokens = {n_fixed}, plus "
            f"the characters it keeps; use well above {n_fixed}"
        )
    options = dict(
        model_type=model_type, vocab_size=vocab_size, character_coverage=character_coverage,
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        split_digits=True, max_sentence_length=4192, num_threads=2, seed_sentencepiece_size=1_000_000,
        input_sentence_size=0, shuffle_input_sentence=False, hard_vocab_limit=not allow_smaller,
        user_defined_symbols=specials, minloglevel=0 if progress else 2,
        train_extremely_large_corpus=False,
    )
    data = _run_spm_trainer(texts, options, vocab_size)
    tok = _spm_tokenizer(data, name or f"spm-{model_type}-{vocab_size}")
    return TrainedTokenizer(
        tokenizer=tok, stop_reason="vocab_size" if tok.vocab_size == vocab_size else "no_pairs",
        options={"vocab_size": vocab_size, "model_type": model_type, "character_coverage": character_coverage,
                 "special_tokens": specials, "normalization": "identity", "byte_fallback": True},
        corpus=_describe(corpus_or_texts, texts), file_bytes=data, file_suffix=".model",
    )


class _SpmBytesReference:
    """``sentencepiece`` over an in-memory model (what :meth:`TrainedTokenizer.save` writes)."""

    library = "sentencepiece"

    def __init__(self, data: bytes):
        import sentencepiece as spm

        self.processor = spm.SentencePieceProcessor(model_proto=data)

    def encode(self, text: str) -> list[int]:
        return self.processor.encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self.processor.encode(texts)

    def decode(self, ids: Sequence[int]) -> str:
        return self.processor.decode(list(ids))


def train_spm_bpe(corpus_or_texts: Any, *, vocab_size: int, character_coverage: float = 0.9995,
                  special_tokens: Any = (), allow_smaller: bool = False, progress: bool = True,
                  name: str | None = None, **_ignored: Any) -> TrainedTokenizer:
    """SentencePiece BPE (byte fallback, identity normalization); saves a ``.model``."""
    return _train_spm(corpus_or_texts, "bpe", vocab_size=vocab_size, character_coverage=character_coverage,
                      special_tokens=special_tokens, allow_smaller=allow_smaller, progress=progress,
                      name=name)


def train_spm_unigram(corpus_or_texts: Any, *, vocab_size: int, character_coverage: float = 0.9995,
                      special_tokens: Any = (), allow_smaller: bool = False, progress: bool = True,
                      name: str | None = None, **_ignored: Any) -> TrainedTokenizer:
    """SentencePiece Unigram (byte fallback, identity normalization); saves a ``.model``."""
    return _train_spm(corpus_or_texts, "unigram", vocab_size=vocab_size,
                      character_coverage=character_coverage, special_tokens=special_tokens,
                      allow_smaller=allow_smaller, progress=progress, name=name)


# ---------------------------------------------------------------------------- HF tokenizers


def _hf_result(hf: Any, corpus_or_texts: Any, texts: Sequence[str], *, vocab_size: int,
               allow_smaller: bool, label: str, options: dict[str, Any]) -> TrainedTokenizer:
    from ..formats.hf_json import tokenizer_from_json_text

    text = hf.to_str()
    got = hf.get_vocab_size()
    if got < vocab_size and not allow_smaller:
        raise TrainingError(
            f"training stopped at {got} tokens, before vocab_size {vocab_size}: the corpus is too "
            "small for this vocabulary; give more text, a smaller vocab_size, or allow_smaller=True"
        )
    tok = tokenizer_from_json_text(text, name=label)
    return TrainedTokenizer(tokenizer=tok, stop_reason="vocab_size" if got >= vocab_size else "no_pairs",
                            options=options, corpus=_describe(corpus_or_texts, texts))


def train_hf_unigram(corpus_or_texts: Any, *, vocab_size: int, special_tokens: Any = (),
                     allow_smaller: bool = False, progress: bool = True, name: str | None = None,
                     max_piece_length: int = 16, **_ignored: Any) -> TrainedTokenizer:
    """HF ``UnigramTrainer`` with a Metaspace pretokenizer and ``<unk>`` (id 0)."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    vocab_size = check_vocab_size(vocab_size)
    texts = training_texts(corpus_or_texts)
    specials = ["<unk>", *(s for s in _specials(special_tokens) if s != "<unk>")]
    alphabet = len({c for t in texts for c in t if not c.isspace()}) + 1
    if vocab_size < len(specials) + alphabet:
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: {alphabet} characters (with ▁) + "
            f"{len(specials)} special tokens; use at least {alphabet + len(specials)}"
        )
    hf = HFTokenizer(models.Unigram())
    hf.pre_tokenizer = pre_tokenizers.Metaspace()
    hf.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>",
                                      show_progress=progress, max_piece_length=max_piece_length)
    hf.train_from_iterator(texts, trainer=trainer)
    return _hf_result(hf, corpus_or_texts, texts, vocab_size=vocab_size, allow_smaller=allow_smaller,
                      label=name or f"hf-unigram-{vocab_size}",
                      options={"vocab_size": vocab_size, "special_tokens": specials,
                               "max_piece_length": max_piece_length})


def train_hf_wordpiece(corpus_or_texts: Any, *, vocab_size: int, special_tokens: Any = (),
                       allow_smaller: bool = False, progress: bool = True, name: str | None = None,
                       min_frequency: int = 0, **_ignored: Any) -> TrainedTokenizer:
    """HF ``WordPieceTrainer`` (cased, BERT pretokenizer, ``##`` prefix, ``[UNK]`` id 0)."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    vocab_size = check_vocab_size(vocab_size)
    texts = training_texts(corpus_or_texts)
    specials = ["[UNK]", *(s for s in _specials(special_tokens) if s != "[UNK]")]
    alphabet = len({c for t in texts for c in t if not c.isspace()})
    if vocab_size < len(specials) + alphabet:
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: {alphabet} characters + "
            f"{len(specials)} special tokens; use at least {alphabet + len(specials)}"
        )
    hf = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
    hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    hf.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=progress,
                                        min_frequency=min_frequency)
    hf.train_from_iterator(texts, trainer=trainer)
    return _hf_result(hf, corpus_or_texts, texts, vocab_size=vocab_size, allow_smaller=allow_smaller,
                      label=name or f"hf-wordpiece-{vocab_size}",
                      options={"vocab_size": vocab_size, "special_tokens": specials,
                               "min_frequency": min_frequency})
