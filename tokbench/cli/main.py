"""The ``tokbench`` command line.

Subcommands live in :mod:`tokbench.commands`, one module each with ``add_arguments(parser)``
and ``run(args) -> int``; this module only registers them, parses arguments and turns a
:class:`~tokbench.errors.TokbenchError` into one line on stderr and a non-zero exit, never a
traceback.

Example:
    $ tokbench info ../shared/data/tokenizers/cl100k_base.tiktoken --json
    $ tokbench encode gpt2/ "Hello world" --json
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import TokbenchError

__all__ = ["main", "COMMANDS"]

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("tokbench.cli.info", "describe a tokenizer file (kind, vocab, merges, specials, pipeline)"),
    "encode": ("tokbench.cli.encode", "encode text with a tokenizer and show ids and tokens"),
    "coverage": ("tokbench.cli.coverage", "classify every vocabulary entry (Qtok-style): classes, scripts, Latin/Cyrillic languages"),
    "premiums": ("tokbench.cli.premiums", "token premiums on a parallel corpus (Petrov/Arnett) with bootstrap CIs and summaries"),
    "optimal-vocab": ("tokbench.cli.optimal_vocab", "per-language optimal vocabulary size (Arnett et al. 2025): BPE over a vocab grid, power-law fit of CTC, retrain at the target, premium variance and regression"),
    "train": ("tokbench.cli.train", "train a tokenizer (bpe, char, superword, hybrid, spm-bpe, spm-unigram, hf-unigram, hf-wordpiece) on a corpus; save it"),
    "trainers-experiment": ("tokbench.cli.trainers_experiment", "train every tokenizer family at equal vocab on FLORES dev + code; CSV of held-out bytes/token"),
    "charbench": ("tokbench.cli.charbench", "CharBench character-level tasks: generate items, tokenization features, ask a model, score answers"),
    "mergefree": ("tokbench.cli.mergefree", "compare standard BPE with merge-list-free and corrupted-merge encodings"),
    "attack": ("tokbench.cli.attack", "attacks on tokenizers: infer the training-data mixture from a merge list (LP), controlled experiments"),
    "audit": ("tokbench.cli.audit", "audit tokenizers side by side: coverage, compression, premiums, merge-free (and mixture); HTML + PDF report"),
    "demo": ("tokbench.cli.demo", "train BPE, char, superword and hybrid tokenizers on the bundled sample, audit them, write HTML + PDF"),
}

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokbench", description="Build and audit LLM tokenizers.")
    parser.add_argument("--version", action="version", version=f"tokbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=module.__doc__.split("\n\n")[0])
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except TokbenchError as err:
        print(f"tokbench {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"tokbench {args.command}: interrupted; no partial output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
