"""``python -m compare`` — see :mod:`compare.cli`."""

from .cli import main

raise SystemExit(main())
