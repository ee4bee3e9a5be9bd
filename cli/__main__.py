import sys

from bertsent.cli.main import main

sys.exit(main())
