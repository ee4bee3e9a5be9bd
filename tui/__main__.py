"""``bertsent-tui``: open the app, optionally on a data path and an encoder."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bertsent.core import installed_version

# How long quitting waits for cancelled workers to reach their next checkpoint (a batch being
# embedded ends, and what was embedded goes to the cache); a thread stuck in a read is left behind.
QUIT_GRACE_S = 5.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bertsent-tui", description="The bertsent terminal app.")
    parser.add_argument("--data", help="file or folder with labelled sentences (default: $BERTSENT_DATA)")
    parser.add_argument("--encoder", help="minilm (offline default), mpnet, distilbert, bert, an id or a folder")
    parser.add_argument("--version", action="version", version=f"bertsent-tui {installed_version()}")
    args = parser.parse_args(argv)
    from bertsent.core.encoding.encoder import quiet_transformers
    from bertsent.tui.app import create_app
    from bertsent.tui.background import threads_finished

    quiet_transformers()  # its warnings and progress bars would draw over the app
    app = create_app(data=args.data, encoder=args.encoder)
    app.run()
    if app.fatal_error is not None:
        print(f"bertsent-tui: {app.fatal_error}", file=sys.stderr)
    code = app.return_code or 0
    if not threads_finished(within=QUIT_GRACE_S):
        # A cancelled worker is stuck (a read that never ends) or still in a batch: leave without
        # the interpreter's shutdown, which would tear modules (torch's too) down beneath it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
