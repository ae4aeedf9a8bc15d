"""Benchmark: the Turkish morphology-hybrid tokenizer (Bayram et al. 2025's lexicon + BPE fallback)
against plain byte-level BPE of the same total vocabulary, on FLORES-200 ``tur_Latn``.

Training text: FLORES dev (997 lines) — the hybrid's BPE fallback is trained on what the lexicon
leaves uncovered there, plain BPE on all of it with vocab_size = the hybrid's final vocabulary.
Evaluation: FLORES devtest (1,012 lines), each line encoded on its own.

Columns:
* ``tokens_per_word`` — tokens / whitespace-separated words; ``nonspace_tokens_per_word`` leaves
  out the hybrid's explicit whitespace tokens (plain BPE glues the space to the next word);
* ``lex_class_occ`` / ``lex_class_type`` — share of token occurrences / of distinct token ids
  used that are lexicon roots or affixes *by id* (hybrid only; whitespace and ``<uppercase>``
  tokens count as not-morpheme, so the ``_nonspace`` variant divides by non-whitespace tokens);
* ``lex_surface_occ`` / ``lex_surface_type`` — the same shares judged by surface, for both
  tokenizers: a token whose text (leading space stripped, Turkish lower-cased) is a root or affix
  form of the lexicon (the paper's type-level "valid morpheme" view);
* ``roundtrip`` — every devtest line decodes back exactly.

Run:  .venv/bin/python scripts/hybrid_report.py [--vocab-size 32768]
Writes results/hybrid/hybrid_vs_bpe.csv (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from pathlib import Path


def lexicon_surfaces(lexicon) -> set[str]:
    from tokbench.trainers.hybrid import _is_marker

    return {s for table in (lexicon.roots, lexicon.affixes) for s in table if not _is_marker(s)}


def measure(tok, texts, surfaces, *, casing, hybrid: bool) -> dict:
    from collections import Counter

    from tokbench.model.hybrid import lower_word

    t0 = time.perf_counter()
    encoded = [tok.encode(t) for t in texts]
    seconds = time.perf_counter() - t0
    counts = Counter(i for ids in encoded for i in ids)
    n_tokens = sum(counts.values())
    n_words = sum(len(t.split()) for t in texts)
    classes = getattr(tok, "token_classes", None)

    def is_surface(i: int) -> bool:
        text = tok.vocab[i].decode("utf-8", errors="replace").lstrip(" ")
        return bool(text) and lower_word(text, casing) in surfaces

    space_ids = {i for i in counts if hybrid and classes[i] == "space"}
    nonspace = n_tokens - sum(counts[i] for i in space_ids)
    row = {
        "tokens": n_tokens, "words": n_words,
        "tokens_per_word": n_tokens / n_words,
        "nonspace_tokens_per_word": nonspace / n_words,
        "types_used": len(counts),
        "lex_surface_occ": sum(c for i, c in counts.items() if is_surface(i)) / n_tokens,
        "lex_surface_type": sum(1 for i in counts if is_surface(i)) / len(counts),
        "roundtrip": all(tok.decode(ids) == t for ids, t in zip(encoded, texts, strict=True)),
        "encode_seconds": seconds,
    }
    if hybrid:
        lex = {i for i in counts if classes[i] in ("root", "affix")}
        row.update({
            "lex_class_occ": sum(counts[i] for i in lex) / n_tokens,
            "lex_class_occ_nonspace": sum(counts[i] for i in lex) / nonspace,
            "lex_class_type": len(lex) / len(counts),
            "roots_occ": sum(c for i, c in counts.items() if classes[i] == "root") / n_tokens,
            "affixes_occ": sum(c for i, c in counts.items() if classes[i] == "affix") / n_tokens,
            "bpe_occ": sum(c for i, c in counts.items() if classes[i] == "bpe") / n_tokens,
            "morphemes_used": len({tok.morpheme_ids[i] for i in lex}),
        })
    return row


def main() -> int:
    from tokbench._io import atomic_write, shared_data_dir
    from tokbench.corpora import load_flores
    from tokbench.trainers.bpe import train_bpe
    from tokbench.trainers.hybrid import Lexicon, train_hybrid

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=32768, help="hybrid target (the fallback may stop early)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "results" / "hybrid" / "hybrid_vs_bpe.csv")
    args = parser.parse_args()

    data = shared_data_dir()
    if data is None:
        raise SystemExit("shared data not found: set TOKBENCH_DATA")
    lexicon = Lexicon.from_turkish_dir(data / "morphology" / "turkish")
    dev = load_flores("tur_Latn", split="dev").documents("tur_Latn")
    devtest = load_flores("tur_Latn", split="devtest").documents("tur_Latn")
    surfaces = lexicon_surfaces(lexicon)

    t0 = time.perf_counter()
    hybrid = train_hybrid(dev, lexicon=lexicon, vocab_size=args.vocab_size, allow_smaller=True, progress=False)
    hybrid_seconds = time.perf_counter() - t0
    size = hybrid.tokenizer.vocab_size
    t0 = time.perf_counter()
    plain = train_bpe(dev, vocab_size=size, allow_smaller=True, progress=False)
    plain_seconds = time.perf_counter() - t0

    rows = []
    for label, tok, seconds, is_hybrid in (("hybrid (turkish lexicon)", hybrid.tokenizer, hybrid_seconds, True),
                                           ("plain byte-level BPE", plain.tokenizer, plain_seconds, False)):
        row = {"tokenizer": label, "vocab_size": tok.vocab_size, "train_seconds": seconds,
               **measure(tok, devtest, surfaces, casing="turkish", hybrid=is_hybrid)}
        rows.append(row)

    buffer = io.StringIO()
    fields = sorted({k for r in rows for k in r}, key=lambda k: list(rows[0]).index(k) if k in rows[0] else 99)
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    with atomic_write(args.out) as handle:
        handle.write(buffer.getvalue())

    cov = hybrid.coverage
    print(f"lexicon: {lexicon.describe()}")
    print(f"hybrid: {hybrid.tokenizer.fallback_offset:,} lexicon tokens + "
          f"{size - hybrid.tokenizer.fallback_offset:,} fallback tokens (fallback stop: {hybrid.stop_reason}); "
          f"dev words fully covered by the lexicon: {cov['covered_words']:,}/{cov['words']:,} "
          f"({cov['covered_words'] / cov['words']:.1%})")
    print(f"plain BPE: vocab {plain.tokenizer.vocab_size:,} (stop: {plain.stop_reason})")
    keys = ["vocab_size", "tokens", "tokens_per_word", "nonspace_tokens_per_word", "types_used",
            "lex_class_occ", "lex_class_occ_nonspace", "lex_class_type", "roots_occ", "affixes_occ", "bpe_occ",
            "morphemes_used", "lex_surface_occ", "lex_surface_type", "roundtrip", "train_seconds", "encode_seconds"]
    width = max(map(len, keys))
    print(f"{'':{width}}  " + "  ".join(f"{r['tokenizer']:>26}" for r in rows))
    for k in keys:
        cells = []
        for r in rows:
            v = r.get(k, "-")
            cells.append(f"{v:>26.3f}" if isinstance(v, float) else f"{v!s:>26}")
        print(f"{k:{width}}  " + "  ".join(cells))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
