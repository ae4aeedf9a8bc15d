"""One module per ``tokbench`` subcommand (see :mod:`tokbench.cli`)."""
