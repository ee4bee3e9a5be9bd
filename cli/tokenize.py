"""``bertsent tokenize``: WordPiece tokens and ids of one sentence."""

from __future__ import annotations

import argparse

from bertsent.cli.common import encoder_options, load_encoder, print_json, safe


def register(commands: argparse._SubParsersAction) -> None:
    tokenize = commands.add_parser("tokenize", help="show WordPiece tokens and ids of a sentence")
    tokenize.set_defaults(run=cmd_tokenize)
    tokenize.add_argument("text", help="the sentence")
    encoder_options(tokenize)
    tokenize.add_argument("--json", action="store_true", help="print JSON")


def cmd_tokenize(args: argparse.Namespace) -> int:
    encoder = load_encoder(args)
    tokens = encoder.tokenize(args.text)
    if args.json:
        print_json({"tokens": tokens.tokens, "ids": tokens.ids, "truncated": tokens.truncated})
    else:
        print(" ".join(safe(t) for t in tokens.tokens))
        print(" ".join(str(i) for i in tokens.ids))
    return 0
