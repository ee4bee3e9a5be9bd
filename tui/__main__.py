"""``bertsent-tui``: open the app, optionally on a data path and an encoder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bertsent-tui", description="The bertsent terminal app.")
    parser.add_argument("--data", help="file or folder with labelled sentences (default: $BERTSENT_DATA)")
    parser.add_argument("--encoder", help="minilm (offline default), mpnet, distilbert, bert, an id or a folder")
    args = parser.parse_args(argv)
    from bertsent.tui.app import create_app

    create_app(data=args.data, encoder=args.encoder).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
