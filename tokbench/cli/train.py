"""Train a tokenizer on a corpus and save it (``tokbench train --trainer NAME``).

Trainers (:data:`tokbench.trainers.TRAINERS`): ``bpe`` (byte-level BPE, HF ``BpeTrainer``-exact),
``char`` (character-level BPE capped at ``--max-token-length`` characters, KL3M-style),
``superword`` (SuperBPE: ``--transition``, ``--max-words``), and the reference-library baselines
``spm-bpe``, ``spm-unigram`` (a SentencePiece ``.model`` is written: ``x.json`` becomes
``x.model``), ``hf-unigram`` and ``hf-wordpiece``, and ``hybrid`` (morpheme lexicon +
BPE fallback: ``--lexicon DIR`` or ``--morfessor``, ``--casing turkish``; writes tokbench's
``hybrid`` JSON). ``--jobs N`` (bpe, char, superword) pretokenizes and counts in N worker
processes (default: one, as before; the merges do not depend on N), and ``--stream`` reads the
corpus a block at a time instead of loading it. ``--kind`` is the old spelling of
``--trainer`` (``bpe``/``char_bpe``). ``--trace`` also writes every merge with its pair count at
its step (CSV), the input data-mixture inference needs.

Example:
    $ tokbench train --corpus flores:eng_Latn,fra_Latn+code:python --vocab-size 8000 -o bpe8k.json
    $ tokbench train --trainer char --max-token-length 3 --normalization NFKC \\
          --corpus flores:eng_Latn --vocab-size 4000 -o char3.json --trace char3-merges.csv
    $ tokbench train --corpus big.jsonl --stream --jobs 2 --vocab-size 32000 -o big32k.json
    $ tokbench train --trainer superword --transition 0.8 --corpus flores:vie_Latn@both \\
          --vocab-size 8000 -o superword.json
    $ tokbench train --trainer hybrid --lexicon ../shared/data/morphology/turkish --casing turkish \\
          --corpus flores:tur_Latn@dev --vocab-size 32768 --allow-smaller -o hybrid-tr.json
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from ..errors import TokbenchError, TrainingError
from ._common import NONNEGATIVE_INT, POSITIVE_INT, check_outputs, float_in

#: Python keyword spellings in the trainers' error hints and the flags that set them here, so a
#: CLI user is told what to type (``--allow-smaller``), not a keyword they cannot pass.
_CLI_SPELLINGS = (("allow_smaller=True", "--allow-smaller"), ("max_token_chars", "--max-token-length"),
                  ("vocab_size", "--vocab-size"), ("max_words", "--max-words"),
                  ("transition", "--transition"), ("limit_alphabet", "--limit-alphabet"))


def cli_wording(message: str) -> str:
    """``message`` with the trainers' Python keywords replaced by this command's flags.

    Example:
        >>> cli_wording("give more text, a smaller vocab_size, or allow_smaller=True")
        'give more text, a smaller --vocab-size, or --allow-smaller'
    """
    for keyword, flag in _CLI_SPELLINGS:
        message = message.replace(keyword, flag)
    return message


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", required=True, help="corpus spec (see docs/corpus-spec.md)")
    parser.add_argument("--vocab-size", type=POSITIVE_INT, required=True, help="final vocabulary size, specials included")
    parser.add_argument("-o", "--out", type=Path, required=True, help="tokenizer file to write")
    parser.add_argument("--trainer", "--kind", dest="trainer", default="bpe", metavar="NAME",
                        help="bpe (default), char, superword, spm-bpe, spm-unigram, hf-unigram, "
                             "hf-wordpiece, hybrid (--kind: old spelling)")
    parser.add_argument("--pattern",
                        help="split pattern (bpe/char default gpt2, superword stage 1 default llama3): gpt2, r50k, p50k, cl100k, o200k, llama3 or a regex")
    parser.add_argument("--min-frequency", type=NONNEGATIVE_INT, default=0, help="stop when the best pair is rarer")
    parser.add_argument("--special-token", action="append", default=[], metavar="TEXT",
                        help="special token, given ids 0, 1, ... (repeatable)")
    parser.add_argument("--max-token-length", type=POSITIVE_INT,
                        help="bpe: HF's max_token_length (bytes); char_bpe: the cap in characters (default 4)")
    parser.add_argument("--normalization", choices=["NFKC", "NFC"], help="char_bpe: normalize text first")
    parser.add_argument("--limit-alphabet", type=POSITIVE_INT, help="char_bpe: keep only the N most frequent characters")
    parser.add_argument("--continue-from", metavar="TOKENIZER",
                        help="bpe: replay this tokenizer's merge list first, then train on")
    parser.add_argument("--allow-smaller", action="store_true",
                        help="save a smaller vocabulary if the corpus runs out of pairs")
    parser.add_argument("--transition", type=float_in(0, float("inf"), low_open=True, high_open=True),
                        help="superword: stage-1 vocabulary, a count (>= 1) or a fraction of --vocab-size (default 0.8)")
    parser.add_argument("--max-words", type=POSITIVE_INT, help="superword: words per superword (default 4)")
    parser.add_argument("--trace", type=Path, help="also write the merges and their pair counts as CSV")
    parser.add_argument("--lexicon", metavar="DIR_OR_FILES",
                        help="hybrid: morpheme lexicon, a folder with roots.json + affixes.json or "
                             "ROOTS.json,AFFIXES.json (surface form -> id)")
    parser.add_argument("--morfessor", action="store_true",
                        help="hybrid: learn the lexicon with Morfessor Baseline instead of --lexicon")
    parser.add_argument("--casing", choices=["unicode", "turkish"],
                        help="hybrid: lower-casing for the <uppercase> marker (turkish: I<->ı, İ<->i; default unicode)")
    parser.add_argument("--jobs", type=POSITIVE_INT, metavar="N",
                        help="bpe, char, superword: pretokenize and count in N worker processes "
                             "(default: one process; the merges are the same for every N)")
    parser.add_argument("--stream", action="store_true",
                        help="bpe, char, superword: read the corpus a block at a time instead of loading "
                             "it (memory grows with distinct pieces, not corpus size; ?max_bytes= then "
                             "samples by seeded hashing, see tokbench.corpora.streaming)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


_BPE_ONLY = ("bpe", "superword")
_PATTERN_TRAINERS = ("bpe", "char_bpe", "superword")
_BPE_FLAGS = {"--max-token-length", "--trace", "--pattern", "--min-frequency", "--jobs", "--stream"}
#: The options each trainer takes beyond the common ones (vocab size, specials, progress).
_FLAGS: dict[str, set[str]] = {
    "bpe": {"--continue-from", *_BPE_FLAGS},
    "char_bpe": {"--normalization", "--limit-alphabet", *_BPE_FLAGS},
    "superword": {"--transition", "--max-words", *_BPE_FLAGS},
    "hf-wordpiece": {"--min-frequency"},
    "hybrid": {"--lexicon", "--morfessor", "--casing", "--min-frequency"},
}


def _options(args: argparse.Namespace, trainer: str) -> dict:
    """Keyword options for ``trainer``; an option it cannot use is an error, not ignored."""
    given = {
        "--continue-from": args.continue_from, "--normalization": args.normalization,
        "--limit-alphabet": args.limit_alphabet, "--transition": args.transition,
        "--max-words": args.max_words,
        "--max-token-length": args.max_token_length, "--trace": args.trace,
        "--pattern": args.pattern,
        "--min-frequency": args.min_frequency or None,
        "--lexicon": getattr(args, "lexicon", None), "--morfessor": getattr(args, "morfessor", False) or None,
        "--casing": getattr(args, "casing", None),
        "--jobs": getattr(args, "jobs", None), "--stream": getattr(args, "stream", False) or None,
    }
    allowed = _FLAGS.get(trainer, set())
    for flag, value in given.items():
        if value is not None and flag not in allowed:
            users = [t for t, flags in _FLAGS.items() if flag in flags]
            hint = "--kind bpe" if flag == "--continue-from" else f"--trainer {' or '.join(users)}"
            raise TokbenchError(f"{flag} works with {hint} only (not with {trainer})")
    options: dict = {"vocab_size": args.vocab_size, "special_tokens": args.special_token,
                     "allow_smaller": args.allow_smaller, "progress": not args.no_progress}
    if trainer in _PATTERN_TRAINERS:
        options["min_frequency"] = args.min_frequency
        if getattr(args, "jobs", None) is not None:
            options["jobs"] = args.jobs
        if args.pattern is not None:
            options["pattern"] = args.pattern
    if trainer == "char_bpe":
        # ``is None``, not ``or``: an explicit value is used as given (it is validated >= 1 above).
        options.update(max_token_chars=4 if args.max_token_length is None else args.max_token_length,
                       normalization=args.normalization,
                       limit_alphabet=args.limit_alphabet)
    elif trainer in _BPE_ONLY:
        options["max_token_length"] = args.max_token_length
    if trainer == "bpe" and args.continue_from:
        from ._common import load_from_args

        options["initial_merges"] = load_from_args(args.continue_from, argparse.Namespace())
    if trainer == "superword":
        if args.transition is not None:
            options["transition"] = int(args.transition) if args.transition >= 1 else args.transition
        if args.max_words is not None:
            options["max_words"] = args.max_words
    if trainer == "hf-wordpiece":
        options["min_frequency"] = args.min_frequency
    if trainer == "hybrid":
        if bool(args.lexicon) == bool(args.morfessor):
            raise TokbenchError("--trainer hybrid needs exactly one of --lexicon DIR_OR_FILES and --morfessor")
        options.update(min_frequency=args.min_frequency, casing=args.casing, morfessor=args.morfessor)
        if args.lexicon:
            from ..trainers.hybrid import Lexicon

            options["lexicon"] = Lexicon.from_path(args.lexicon, casing=args.casing or "unicode")
    return options


def run(args: argparse.Namespace) -> int:
    from .._io import atomic_write
    from ..corpora import load_corpus
    from ..trainers import ALIASES, get_trainer

    train = get_trainer(args.trainer)
    trainer = ALIASES.get(args.trainer.lower(), args.trainer.lower())
    check_outputs(args, files=("out", "trace"))
    if args.trace is not None and Path(args.trace).resolve() == Path(args.out).resolve():
        raise TokbenchError(f"--trace {args.trace} is the same file as --out; give the merge trace its own file")
    options = _options(args, trainer)
    if getattr(args, "stream", False):
        from ..corpora import stream_corpus

        corpus = stream_corpus(args.corpus)
    else:
        corpus = load_corpus(args.corpus)
    try:
        trained = train(corpus, **options)
    except TrainingError as error:
        raise TrainingError(cli_wording(str(error))) from error
    path = trained.save(args.out)
    tok = trained.tokenizer
    if args.trace:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["rank", "left_id", "right_id", "new_id", "count", "left", "right"])
        for k, ((a, b), new, count) in enumerate(zip(trained.merges, trained.merged_ids,
                                                      trained.merge_counts.tolist(), strict=True)):
            writer.writerow([k, a, b, new, count, repr(tok.vocab[a])[2:-1], repr(tok.vocab[b])[2:-1]])
        with atomic_write(args.trace) as handle:
            handle.write(buffer.getvalue())
    merges = getattr(trained, "merges", None)
    detail = f", {len(merges):,} merges" if merges else ""
    pieces = getattr(trained, "n_word_types", 0)
    # A stream reports the size of its files: its text size would take another pass over it.
    size = (f"{corpus.n_bytes():,} bytes" if not getattr(args, "stream", False)
            else f"streamed, {trained.corpus.get('file_bytes', 0):,} bytes of files")
    print(f"trained {tok.name} ({trainer}): vocab {tok.vocab_size:,}{detail} "
          f"(stopped: {trained.stop_reason}) on {corpus.name} "
          f"({size}{f', {pieces:,} distinct pieces' if pieces else ''})")
    if Path(path) != Path(args.out):
        print(f"note: {trainer} saves its reference library's format; wrote {path} instead of {args.out}")
    print(f"written {path}  sha256:{tok.fingerprint}")
    print(f"signature {trained.signature.short()}")
    if args.trace:
        print(f"written {args.trace}")
    return 0
