"""Storage: items in a SQLite database, always queried with bound parameters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inventory.models import Item

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    name TEXT PRIMARY KEY,
    quantity INTEGER NOT NULL,
    location TEXT NOT NULL DEFAULT ''
)
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create when needed) the database at ``path``."""
    conn = sqlite3.connect(path)
    conn.execute(SCHEMA)
    return conn


def save(conn: sqlite3.Connection, item: Item) -> None:
    """Insert or replace one item."""
    conn.execute(
        "INSERT OR REPLACE INTO items (name, quantity, location) VALUES (?, ?, ?)",
        (item.name, item.quantity, item.location),
    )
    conn.commit()


def find(conn: sqlite3.Connection, name: str) -> Item | None:
    """The item called ``name``, or None."""
    row = conn.execute(
        "SELECT name, quantity, location FROM items WHERE name = ?", (name,)
    ).fetchone()
    return Item(*row) if row else None


def all_items(conn: sqlite3.Connection) -> list[Item]:
    """Every item, by name."""
    rows = conn.execute("SELECT name, quantity, location FROM items ORDER BY name")
    return [Item(*row) for row in rows]
