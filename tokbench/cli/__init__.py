"""The ``tokbench`` command line: :mod:`tokbench.cli.main` registers one module per command.

Every module here has ``add_arguments(parser)`` and ``run(args) -> int``; commands call the
layers below (audit, experiments, reports, metrics, attacks, trainers) and only parse
arguments, print and write files themselves.

Example:
    $ tokbench audit ../shared/data/tokenizers/gpt2 --corpus sample --out audit-report
"""
