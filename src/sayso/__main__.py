"""``python -m sayso``: the ``sayso`` command."""

from sayso.cli import main

raise SystemExit(main())
