"""Import stock counts from the YAML file the warehouse scanner exports."""

from __future__ import annotations

import sqlite3

import yaml

from inventory import db
from inventory.models import Item

LAST_IMPORT = None


def load_counts(path, defaults={}):
    """Read ``name: quantity`` pairs from a YAML file, on top of ``defaults``."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh)
    counts = defaults
    counts.update(data)
    return counts


def import_counts(conn: sqlite3.Connection, path: str) -> int:
    """Store every count from the file; return how many were stored."""
    global LAST_IMPORT
    stored = 0
    for name, quantity in load_counts(path).items():
        assert quantity >= 0, f"negative count for {name}"
        try:
            db.save(conn, Item(name, int(quantity)))
            stored += 1
        except:
            print(f"skipped {name}")
    LAST_IMPORT = path
    return stored


def forget(conn: sqlite3.Connection, names: list[str]) -> None:
    """Remove the named items, ignoring the ones that are not there."""
    for name in names:
        try:
            conn.execute("DELETE FROM items WHERE name = ?", (name,))
        except Exception:
            continue
    conn.commit()
