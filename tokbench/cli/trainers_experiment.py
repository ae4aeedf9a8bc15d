"""Compare tokenizer families at equal vocabulary on held-out text (bytes per token).

Every trainer of :data:`tokbench.trainers.TRAINERS` (or ``--trainers``) is trained once per
vocabulary size on the FLORES-200 ``dev`` sentences of ``--languages`` plus the even-numbered
documents of each ``--code`` language, and evaluated on the FLORES ``devtest`` sentences and the
odd-numbered code documents (each document encoded on its own, no special tokens). The CSV holds
one row per (trainer, vocab_size, category) and is written atomically.

Example:
    $ tokbench trainers-experiment --languages eng_Latn,rus_Cyrl,zho_Hans --code python \\
          --vocab-sizes 8000,16000 --out results/trainers.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import TokbenchError

DEFAULT_LANGUAGES = ("eng_Latn,fra_Latn,deu_Latn,vie_Latn,tur_Latn,rus_Cyrl,ell_Grek,arb_Arab,heb_Hebr,"
                     "hin_Deva,zho_Hans,jpn_Jpan,kor_Hang,tha_Thai")
DEFAULT_TRAINERS = "bpe,char,superword,hybrid,spm-bpe,spm-unigram,hf-unigram,hf-wordpiece"
#: Options some families need to train on any corpus: no lexicon ships for every language, so
#: the hybrid learns its morphs with Morfessor (bounded, see tokbench.trainers.hybrid).
TRAINER_OPTIONS = {"hybrid": {"morfessor": True, "morfessor_words": 20_000, "morfessor_epochs": 3}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--languages", default=DEFAULT_LANGUAGES, help="FLORES-200 languages (comma-separated)")
    parser.add_argument("--code", default="python,c", help="code languages, split even/odd documents ('' for none)")
    parser.add_argument("--trainers", default=DEFAULT_TRAINERS, help=f"trainers (default {DEFAULT_TRAINERS})")
    parser.add_argument("--vocab-sizes", default="16000,32000", help="comma-separated vocabulary sizes")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write (atomically)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .._io import write_csv_rows
    from ..corpora import load_code, load_flores
    from ..trainers import ALIASES, get_trainer, train_with

    try:
        sizes = [int(v) for v in args.vocab_sizes.split(",") if v.strip()]
    except ValueError:
        raise TokbenchError(f"--vocab-sizes must be comma-separated integers, got {args.vocab_sizes!r}") from None
    trainers = [t.strip() for t in args.trainers.split(",") if t.strip()]
    for name in trainers:
        get_trainer(name)  # unknown names fail before any training
    dev = load_flores(args.languages, split="dev")
    test = load_flores(args.languages, split="devtest")
    held_out: list[tuple[str, list[str]]] = [(c, list(d)) for c, d in test]
    train_docs = [d for _, docs in dev for d in docs]
    if args.code:
        for category, docs in load_code(args.code):
            train_docs.extend(docs[::2])
            held_out.append((f"code:{category}", list(docs[1::2])))
    rows = []
    bar = tqdm(total=len(trainers) * len(sizes), desc="trainers", disable=args.no_progress)
    for name in trainers:
        key = ALIASES.get(name.lower(), name.lower())
        for size in sizes:
            trained = train_with(name, train_docs, vocab_size=size, **TRAINER_OPTIONS.get(key, {}))
            tok = trained.tokenizer
            for category, docs in held_out:
                ctc = sum(map(len, tok.encode_batch(docs)))
                n_bytes = sum(len(d.encode("utf-8")) for d in docs)
                rows.append({"trainer": key, "vocab_size": size, "actual_vocab": tok.vocab_size,
                             "category": category, "documents": len(docs), "bytes": n_bytes, "tokens": ctc,
                             "bytes_per_token": round(n_bytes / ctc, 4), "tokenizer": tok.fingerprint[:16]})
            bar.update(1)
    bar.close()
    write_csv_rows(args.out, rows)
    print(f"written {args.out}: {len(rows)} rows ({len(trainers)} trainers x {len(sizes)} sizes x "
          f"{len(held_out)} categories)")
    return 0
