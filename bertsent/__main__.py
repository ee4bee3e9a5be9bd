"""``python -m bertsent``: the ``bertsent`` command (``bertsent`` is a namespace package; this
file is its only top-level module)."""

import sys

from bertsent.cli.main import main

sys.exit(main())
