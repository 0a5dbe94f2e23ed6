"""The command line: ``python -m inventory --db FILE add|list ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from inventory import db
from inventory.models import Item


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``inventory`` command."""
    parser = argparse.ArgumentParser(prog="inventory")
    parser.add_argument("--db", type=Path, default=Path("inventory.sqlite"))
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add stock")
    add.add_argument("name")
    add.add_argument("quantity", type=int)
    sub.add_parser("list", help="list the stock")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    conn = db.connect(args.db)
    if args.command == "add":
        current = db.find(conn, args.name) or Item(args.name, 0)
        db.save(conn, current.restocked(args.quantity))
        return 0
    for item in db.all_items(conn):
        print(f"{item.name:<12}{item.quantity}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
