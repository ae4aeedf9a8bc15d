"""``python -m tokbench``: the same command line as the ``tokbench`` script (:mod:`tokbench.cli`)."""

from .cli import main

raise SystemExit(main())
