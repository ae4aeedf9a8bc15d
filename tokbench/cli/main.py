"""The ``tokbench`` command line.

Subcommands live in :mod:`tokbench.cli`, one module each with ``add_arguments(parser)``
and ``run(args) -> int``, registered in :data:`COMMANDS` (a :class:`~tokbench.registry.Registry`
of ``"module:run"``); this module only registers them, parses arguments and turns a
:class:`~tokbench.errors.TokbenchError` (or an ``OSError``) into one line on stderr and a
non-zero exit, never a traceback. A command's output files are all-or-nothing
(:func:`tokbench._io.output_transaction`); SIGTERM stops it like Ctrl-C, without temporary
files left behind; tokbench's own warnings are one ``warning:`` line each.

Example:
    $ tokbench info ../shared/data/tokenizers/cl100k_base.tiktoken --json
    $ tokbench encode gpt2/ "Hello world" --json
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..errors import TokbenchError
from ..registry import Registry

__all__ = ["main", "COMMANDS", "HELP", "build_parser"]

#: command name -> "module:run"; the module also has ``add_arguments(parser)`` and a docstring.
COMMANDS = Registry("command", {
    "info": "tokbench.cli.info:run",
    "encode": "tokbench.cli.encode:run",
    "coverage": "tokbench.cli.coverage:run",
    "unreachable": "tokbench.cli.unreachable:run",
    "compare": "tokbench.cli.compare:run",
    "premiums": "tokbench.cli.premiums:run",
    "optimal-vocab": "tokbench.cli.optimal_vocab:run",
    "train": "tokbench.cli.train:run",
    "trainers-experiment": "tokbench.cli.trainers_experiment:run",
    "charbench": "tokbench.cli.charbench:run",
    "mergefree": "tokbench.cli.mergefree:run",
    "attack": "tokbench.cli.attack:run",
    "audit": "tokbench.cli.audit:run",
    "demo": "tokbench.cli.demo:run",
}, case_sensitive=True)

#: command name -> one-line help shown by ``tokbench --help``
HELP: dict[str, str] = {
    "info": "describe a tokenizer file (kind, vocab, merges, specials, pipeline)",
    "encode": "encode text with a tokenizer and show ids and tokens",
    "coverage": "classify every vocabulary entry (Qtok-style): classes, scripts, Latin/Cyrillic languages",
    "unreachable": "decide for every token of a BPE tokenizer with merges whether any text can produce it "
                   "(witnesses checked with the reference library; proofs for the unreachable)",
    "compare": "compare tokenizers pairwise: vocabulary overlap, merge-list lineage (identical, extends, "
               "shared prefix), added tokens, segmentation agreement on a corpus",
    "premiums": "token premiums on a parallel corpus (Petrov/Arnett) with bootstrap CIs and summaries",
    "optimal-vocab": "per-language optimal vocabulary size (Arnett et al. 2025): BPE over a vocab grid, power-law fit of CTC, retrain at the target, premium variance and regression",
    "train": "train a tokenizer (bpe, char, superword, hybrid, spm-bpe, spm-unigram, hf-unigram, hf-wordpiece) on a corpus; save it",
    "trainers-experiment": "train every tokenizer family at equal vocab on FLORES dev + code; CSV of held-out bytes/token",
    "charbench": "CharBench character-level tasks: generate items, tokenization features, ask a model, score answers",
    "mergefree": "compare standard BPE with merge-list-free and corrupted-merge encodings",
    "attack": "attacks on tokenizers: infer the training-data mixture from a merge list (LP), controlled experiments",
    "audit": "audit tokenizers side by side: coverage, compression, premiums, merge-free (and mixture); HTML + PDF report",
    "demo": "train BPE, char, superword and hybrid tokenizers on the bundled sample, audit them, write HTML + PDF",
}

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
#: Commands whose ``--out`` is a report folder, checked here before the command's work starts.
_REPORT_COMMANDS = ("audit", "demo")


class _Parser(argparse.ArgumentParser):
    """An argument error is one line, like every other error (the usage is one ``--help`` away)."""

    def error(self, message: str):  # type: ignore[no-untyped-def]
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tokbench", description="Build and audit LLM tokenizers.")
    parser.add_argument("--version", action="version", version=f"tokbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        run = COMMANDS.get(name)
        module = sys.modules[run.__module__]
        command = sub.add_parser(name, help=HELP.get(name, ""), description=(module.__doc__ or "").split("\n\n")[0])
        module.add_arguments(command)
        command.set_defaults(_run=run)
    return parser


def _one_line_warnings(command: str) -> Any:
    """``showwarning`` printing tokbench's own warnings as one ``tokbench CMD: warning:`` line."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if category.__module__.startswith("tokbench"):
            print(f"tokbench {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    from .._io import Terminated, install_sigterm_cleanup, output_transaction

    parser = build_parser()
    args = parser.parse_args(argv)
    restore_sigterm = install_sigterm_cleanup()
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warnings(args.command)
        try:
            if args.command in _REPORT_COMMANDS:  # the demo trains for minutes before it audits
                from ._common import check_outputs

                check_outputs(args, folders=("out",))
            with output_transaction():
                return int(args._run(args) or 0)
        except TokbenchError as err:
            print(f"tokbench {args.command}: error: {err}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt as err:
            how = "terminated" if isinstance(err, Terminated) else "interrupted"
            print(f"tokbench {args.command}: {how}; no partial output was written", file=sys.stderr)
            return EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED
        except BrokenPipeError:
            return 0
        except OSError as err:  # the file system said no (a path, a disk, a permission): the user's to fix
            where = f"{err.filename}: " if err.filename else ""
            print(f"tokbench {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
            return EXIT_ERROR
        finally:
            restore_sigterm()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
