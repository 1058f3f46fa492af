"""CPU-bound work of a bulk write done in a second process, so that it runs on the
second core beside the database work of the first.

A 100,000-row import spends as long building and encrypting its rows as SQLite
spends storing them, and one Python process runs only one of the two at a time
(the global interpreter lock). ``produced_apart(produce)`` runs ``produce`` in
a forked copy of this process, which sees every object the caller has built so
far without copying it, and hands back what it yields, one item at a time, while
the caller consumes them. The child never touches the database or a lock of the
parent's: it computes, pickles and exits.

It forks only where that is safe and possible: on POSIX, from a process running a
single thread (the background worker, a command, a test). Elsewhere, or with
``INLINE`` set, ``produce`` simply runs in the caller's process; the items are the
same either way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# Tests set this to compare the two ways; nothing else should need to.
INLINE = False

_ITEM, _ERROR, _END = 0, 1, 2


class OffloadError(RuntimeError):
    """The child process failed; the message names where, never a value."""


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1 and not INLINE


def produced_apart(produce: Callable[[], Iterable[T]]) -> Iterator[T]:
    """What ``produce()`` yields, computed in a forked child where that is safe.

    The child is forked at once, before the caller starts any thread of its own
    (a writer's insert thread, say); the items are read as the caller iterates.
    An iterator dropped before its end (the caller failed) stops the child.
    """
    if not can_fork():
        return iter(produce())
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        _child(produce, write_fd)
    os.close(write_fd)
    return _Received(pid, read_fd)


class _Received(Iterator[T]):
    """The parent's end of the pipe."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid: int | None = pid
        self.stream = os.fdopen(read_fd, "rb", buffering=1 << 20)
        self.finished = False

    def __next__(self) -> T:
        if self.pid is None:
            raise StopIteration
        try:
            # Our own fork's pipe: nothing else can write into it.
            kind, payload = pickle.load(self.stream)  # noqa: S301
        except EOFError:
            self.close()
            raise OffloadError("the child process stopped before it finished") from None
        if kind == _ITEM:
            return payload
        self.finished = kind == _END
        self.close()
        if kind == _ERROR:
            raise OffloadError(payload)
        raise StopIteration

    def close(self) -> None:
        """Stop the child if it has not finished, and reap it."""
        pid, self.pid = self.pid, None
        if pid is None:
            return
        if not self.finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.stream.close()
        os.waitpid(pid, 0)

    def __del__(self) -> None:
        self.close()


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise OffloadError("the database is the parent's: a forked child must not use it")


def _no_database() -> None:
    """The parent's connections are unusable here (one SQLite transaction, one
    PostgreSQL session): any use raises instead of corrupting them, and none is
    closed when the child leaves."""
    from django.db import connections

    for conn in connections.all():
        conn.ensure_connection = _refuse  # type: ignore[method-assign]
        conn.cursor = _refuse  # type: ignore[method-assign]
        conn.connect = _refuse  # type: ignore[method-assign]


def _child(produce: Callable[[], Iterable[T]], write_fd: int) -> None:
    """Run in the forked child: yield items into the pipe, then leave at once (no
    atexit handlers, no database connection closed behind the parent's back)."""
    code = 0
    try:
        _no_database()
        with os.fdopen(write_fd, "wb", buffering=1 << 20) as stream:
            try:
                for item in produce():
                    pickle.dump((_ITEM, item), stream, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 — reported to the parent below
                # Where it failed (file, line, function), without the exception's
                # message or the source lines: either may quote a value.
                where = "\n".join(
                    f"  {frame.filename}:{frame.lineno} in {frame.name}"
                    for frame in traceback.extract_tb(exc.__traceback__)
                )
                text = f"{type(exc).__name__} in the child process:\n{where}"
                pickle.dump((_ERROR, text), stream)
                code = 1
            else:
                pickle.dump((_END, None), stream)
    except BaseException:  # noqa: BLE001 — the parent sees the pipe close early
        code = 1
    finally:
        os._exit(code)
