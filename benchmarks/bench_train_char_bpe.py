"""Benchmark: character-level BPE (KL3M-style, tokens capped at 3 or 4 characters) against plain
byte-level BPE — compression on held-out text, per category, at vocabularies 4k, 8k and 16k.

Training text: FLORES-200 devtest (eng, fra, rus, zho) and a 300 kB sample of the real Python
files; held out: FLORES-200 dev of the same languages and Python files outside the sample.
Compression is bytes per token (higher is cheaper); training time is shown too.

Run:  .venv/bin/python benchmarks/bench_train_char_bpe.py
Writes benchmarks/results/train_char_bpe.csv (atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

LANGS = "eng_Latn,fra_Latn,rus_Cyrl,zho_Hans"


def main() -> int:
    from tokbench._io import write_csv_rows
    from tokbench.corpora import load_code, load_flores
    from tokbench.trainers.bpe import train_bpe
    from tokbench.trainers.char_bpe import train_char_bpe

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-sizes", default="4000,8000,16000")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train_char_bpe.csv")
    args = parser.parse_args()

    train_flores = load_flores(LANGS, split="devtest")
    code_all = load_code("python")
    code_train = code_all.sample(max_bytes=300_000, seed=0)
    docs = [d for _, ds in train_flores for d in ds] + code_train.documents("python")
    seen = set(code_train.documents("python"))
    held = {lang: load_flores(lang, split="dev").documents(lang) for lang in LANGS.split(",")}
    held["python"] = [d for d in code_all.documents("python") if d not in seen][:200]

    variants = [("byte-level BPE", None, None), ("char BPE cap 3", 3, None), ("char BPE cap 4", 4, None),
                ("char BPE cap 4 NFKC", 4, "NFKC")]
    rows = []
    for vocab_size in (int(v) for v in args.vocab_sizes.split(",")):
        for label, cap, norm in variants:
            t0 = time.perf_counter()
            if cap is None:
                trained = train_bpe(docs, vocab_size=vocab_size, progress=False)
            else:
                trained = train_char_bpe(docs, vocab_size=vocab_size, max_token_chars=cap, normalization=norm,
                                         allow_smaller=True, progress=False)
            seconds = time.perf_counter() - t0
            tok = trained.tokenizer
            for category, texts in held.items():
                n_tokens = sum(len(ids) for ids in tok.encode_batch(texts))
                rows.append({"tokenizer": label, "vocab_size": vocab_size, "actual_vocab": tok.vocab_size,
                             "max_token_chars": cap or "", "normalization": norm or "", "category": category,
                             "bytes_per_token": f"{sum(len(t.encode()) for t in texts) / n_tokens:.3f}",
                             "chars_per_token": f"{sum(len(t) for t in texts) / n_tokens:.3f}",
                             "train_seconds": f"{seconds:.2f}"})
    write_csv_rows(args.out, rows)
    categories = list(held)
    print(f"{'tokenizer':<22}{'vocab':>7}" + "".join(f"{c[:8]:>10}" for c in categories) + "   (bytes per token)")
    for k in range(0, len(rows), len(categories)):
        group = rows[k:k + len(categories)]
        print(f"{group[0]['tokenizer']:<22}{group[0]['actual_vocab']:>7}"
              + "".join(f"{r['bytes_per_token']:>10}" for r in group))
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
