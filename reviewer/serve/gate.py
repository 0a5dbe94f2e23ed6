"""Bounded concurrency: ``concurrency`` requests use the model at once, ``queue_depth`` more
wait; beyond that a request is refused at once (the app answers 503 with Retry-After).

Used on the event loop only. A request first :meth:`Gate.reserve` s its place (refused
synchronously, before any response starts), then waits for a slot and releases it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class QueueFull(Exception):
    """No room: every slot is busy and the queue is full."""


class Gate:
    """An asyncio semaphore with a bounded waiting room."""

    def __init__(self, concurrency: int, queue_depth: int) -> None:
        self.concurrency = concurrency
        self.queue_depth = queue_depth
        self._sem = asyncio.Semaphore(concurrency)
        self.waiting = 0
        self.running = 0

    def full(self) -> bool:
        """Whether a request now would be refused."""
        return self.running + self.waiting >= self.concurrency + self.queue_depth

    def reserve(self) -> None:
        """Take a place in the queue; raises QueueFull when there is none."""
        if self.full():
            raise QueueFull
        self.waiting += 1

    async def enter(self) -> None:
        """Wait (after :meth:`reserve`) until a slot is free, and take it."""
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        self.running += 1

    def leave(self) -> None:
        """Give the slot back."""
        self.running -= 1
        self._sem.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Reserve, wait and hold a slot for the body of the ``async with``."""
        self.reserve()
        await self.enter()
        try:
            yield
        finally:
            self.leave()
