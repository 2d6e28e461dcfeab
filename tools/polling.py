"""Notebook clients that do not sleep through a message: ``zmq.asyncio`` polls in short slices.

A ``zmq.asyncio`` poll waits for its socket's file descriptor, which signals only a change:
when another use of the socket (a send, an events query) takes that signal after a message has
arrived, the poll sleeps until its timeout, and only then looks again and finds the message.
Notebook clients poll with long timeouts (nbclient waits for a cell's reply with the whole cell
timeout, five minutes in CI; nbmake's post-cell hook with none), so a missed signal cost CI five
minutes or more. ``poll_in_slices`` makes every such poll look again at least once a second;
what it returns, and when a poll with a timeout gives up, are unchanged.
"""

from __future__ import annotations

import functools
import time

SLICE_MS = 1000
"""Longest wait, in milliseconds, before a poll looks at its sockets again."""


def poll_in_slices() -> None:
    """Patch ``zmq.asyncio.Poller.poll`` in this process (once; a second call does nothing)."""
    import zmq.asyncio

    original = zmq.asyncio.Poller.poll
    if getattr(original, "in_slices", False):
        return

    async def _sliced(poller, timeout):
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        while True:
            wait = SLICE_MS
            if deadline is not None:
                wait = min(SLICE_MS, max(1, int((deadline - time.monotonic()) * 1000)))
            events = await original(poller, wait)
            if events or (deadline is not None and time.monotonic() >= deadline):
                return events

    @functools.wraps(original)  # its name and docstring; __wrapped__ leads back to it
    def poll(self, timeout=-1):
        if timeout is not None and 0 <= timeout <= SLICE_MS:
            return original(self, timeout)
        return self._get_loop().create_task(_sliced(self, timeout))  # a Future, as before

    poll.in_slices = True
    zmq.asyncio.Poller.poll = poll
