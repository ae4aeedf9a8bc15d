"""``python -m tokbench``: the same command line as the ``tokbench`` script (:mod:`tokbench.cli.main`)."""

from .cli.main import main

raise SystemExit(main())
