"""tools/polling.py: a zmq.asyncio poll that missed a wake-up finds its message within a slice."""

import asyncio
import concurrent.futures
import time

import pytest
import zmq
import zmq.asyncio

from tools import polling


async def _poll_after_a_missed_wake_up(timeout_ms, take_the_signal=True):
    """Seconds a poll waits for a message that arrived while another use of the socket took
    its wake-up signal (here an events query, as a send would), and the events it returns."""
    ctx = zmq.asyncio.Context()
    receiver = ctx.socket(zmq.PAIR)
    port = receiver.bind_to_random_port("tcp://127.0.0.1")
    sender = ctx.socket(zmq.PAIR)
    sender.connect(f"tcp://127.0.0.1:{port}")
    poller = zmq.asyncio.Poller()
    poller.register(receiver, zmq.POLLIN)
    try:
        start = time.monotonic()
        waiting = poller.poll(timeout_ms)
        await asyncio.sleep(0.1)  # the poll now waits on the socket's file descriptor
        await sender.send(b"reply")
        time.sleep(0.1)  # the message reaches the receiver's queue ...
        if take_the_signal:
            zmq.Socket.shadow(receiver.underlying).get(zmq.EVENTS)  # ... and its signal is taken
        events = await waiting
        return time.monotonic() - start, dict(events).get(receiver, 0)
    finally:
        sender.close(linger=0)
        receiver.close(linger=0)
        ctx.term()


def _run(coroutine):
    """asyncio.run in a thread of its own: a session-scoped Playwright (tests/test_site.py) keeps
    an event loop running in this thread once it has started, and asyncio.run refuses to nest."""
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture
def unpatched(monkeypatch):
    """zmq.asyncio.Poller.poll as pyzmq ships it, whatever conftest.py did; restored after."""
    original = zmq.asyncio.Poller.poll
    while getattr(original, "in_slices", False):
        original = original.__wrapped__
    monkeypatch.setattr(zmq.asyncio.Poller, "poll", original)
    return original


def test_without_slices_a_missed_wake_up_costs_the_whole_timeout(unpatched):
    waited, events = _run(_poll_after_a_missed_wake_up(3000))
    if waited < 2.9:  # a later pyzmq may look again by itself
        pytest.skip(f"pyzmq found the message after {waited:.2f} s: tools/polling.py may go")
    assert events == zmq.POLLIN  # found, but only when the timeout fired


def test_with_slices_a_missed_wake_up_costs_at_most_a_slice(unpatched):
    polling.poll_in_slices()
    for timeout in (10_000, -1, None):  # a long timeout, and none at all
        waited, events = _run(_poll_after_a_missed_wake_up(timeout))
        # a slice is one second: well before the timeout, even on a machine several times slower
        assert events == zmq.POLLIN and waited < 5, (timeout, waited)


def test_slices_change_neither_a_prompt_answer_nor_a_timeout(unpatched):
    polling.poll_in_slices()
    polling.poll_in_slices()  # a second call adds nothing
    assert zmq.asyncio.Poller.poll.__wrapped__ is unpatched
    waited, events = _run(_poll_after_a_missed_wake_up(10_000, take_the_signal=False))
    assert events == zmq.POLLIN and waited < 5, waited
    ctx = zmq.asyncio.Context()
    lonely = ctx.socket(zmq.PAIR)
    lonely.bind_to_random_port("tcp://127.0.0.1")
    poller = zmq.asyncio.Poller()
    poller.register(lonely, zmq.POLLIN)

    async def poll():
        return await poller.poll(2500)

    start = time.monotonic()
    assert _run(poll()) == []  # nothing came: empty, and not before the deadline
    assert time.monotonic() - start >= 2.45
    lonely.close(linger=0)
    ctx.term()
