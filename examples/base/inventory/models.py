"""The records the inventory stores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One kind of thing in stock, and how many of it there are."""

    name: str
    quantity: int
    location: str = ""

    def restocked(self, amount: int) -> Item:
        """A copy of this item with ``amount`` more in stock."""
        if amount <= 0:
            raise ValueError(f"restock amount must be positive, got {amount}")
        return Item(self.name, self.quantity + amount, self.location)
