"""CPU-bound work of a bulk write done in a second process, so that it runs on the
second core beside the database work of the first.

A 100,000-row import spends as long building and encrypting its rows as SQLite
spends storing them, and one Python process runs only one of the two at a time
(the global interpreter lock). ``produced_apart(produce)`` runs ``produce`` in
a forked copy of this process, which sees every object the caller has built so
far without copying it, and hands back what it yields, one item at a time, while
the caller consumes them. The child never touches the database or a lock of the
parent's: it computes, pickles and exits.

``talk_apart(serve)`` is the same fork for work that answers back: ``serve`` runs
in the child with a ``Channel`` to this process, and the caller gets the other end
of it, each side sending and receiving objects (the second half of a large sheet
read and checked there while this process checks the first, say).

It forks only where that is safe and possible: on POSIX, from a process running a
single thread (the background worker, a command, a test). Elsewhere, or with
``INLINE`` set, ``produce`` simply runs in the caller's process; the items are the
same either way (``talk_apart`` then returns None, and the caller does the work
itself).

``computed_apart(compute)`` forks a child computing one value while the caller goes
on, to be taken later (the person import encrypts a sheet's personal data while
the rows are checked).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Tests set this to compare the two ways; nothing else should need to.
INLINE = False

_ITEM, _ERROR, _END, _SPILLED = 0, 1, 2, 3


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
    pid = _fork()
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


_STOPS = {signal.SIGINT, signal.SIGTERM}


def _fork() -> int:
    """``os.fork``, the child set to ignore Ctrl-C and stop signals.

    They reach the whole process group: the parent decides (the worker finishes the
    job at hand, which needs its child), and stops the child itself when done; were
    the parent killed outright, the child finds its pipe closed and leaves. The
    signals are held back across the fork, so that none arrives before the child
    has set them aside."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pid = os.fork()
        if pid == 0:
            for number in _STOPS:
                signal.signal(number, signal.SIG_IGN)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return pid


def _no_database() -> None:
    """The parent's connections are unusable here (one SQLite transaction, one
    PostgreSQL session): any use raises instead of corrupting them, and none is
    closed when the child leaves."""
    from django.db import connections

    for conn in connections.all():
        conn.ensure_connection = _refuse  # type: ignore[method-assign]
        conn.cursor = _refuse  # type: ignore[method-assign]
        conn.connect = _refuse  # type: ignore[method-assign]


# A payload of bytes at least this large goes through the channel's scratch file, not
# the pipe: a pipe holds 64 KB, so a large one would keep its sender waiting until
# the receiver reads it.
SPILL_BYTES = 1 << 16


def _scratch() -> int:
    """A file descriptor of an anonymous file in memory (a temporary file elsewhere)."""
    with contextlib.suppress(AttributeError, OSError):
        return os.memfd_create("jindu-offload", os.MFD_CLOEXEC)
    fd, path = tempfile.mkstemp(prefix="jindu-offload-")
    os.unlink(path)
    return fd


class Channel:
    """One end of a conversation with a forked process: objects sent by pickle over a
    pipe each way; large byte strings written to a scratch file each way, the pipe
    carrying only where they are, so that a sender never waits for its receiver. A
    failure of the other side (it raised, or it is gone) is an ``OffloadError``."""

    def __init__(
        self, reader: int, writer: int, scratch_in: int, scratch_out: int, pid: int | None = None
    ) -> None:
        self._reader = os.fdopen(reader, "rb", buffering=1 << 20)
        self._writer = os.fdopen(writer, "wb", buffering=1 << 16)
        self._scratch_in, self._scratch_out = scratch_in, scratch_out
        self._written = 0
        # The child's process ID, on the caller's end only.
        self.pid = pid
        self.finished = False

    def send(self, item: object) -> None:
        """Send ``item`` (any object that pickles)."""
        try:
            if item.__class__ is bytes and len(item) >= SPILL_BYTES:  # type: ignore[arg-type]
                view, offset = memoryview(item), self._written  # type: ignore[arg-type]
                while view:
                    done = os.pwrite(self._scratch_out, view, self._written)
                    self._written += done
                    view = view[done:]
                message: tuple = (_SPILLED, (offset, self._written - offset))
            else:
                message = (_ITEM, item)
            pickle.dump(message, self._writer, protocol=pickle.HIGHEST_PROTOCOL)
            self._writer.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise OffloadError("the other process is gone") from exc

    def recv(self) -> Any:
        """The next object the other side sent (waiting for it)."""
        try:
            # Our own fork's pipe: nothing else can write into it.
            kind, payload = pickle.load(self._reader)  # noqa: S301
            if kind == _SPILLED:
                offset, size = payload
                data = os.pread(self._scratch_in, size, offset)
                if len(data) != size:
                    raise EOFError
                return data
        except (EOFError, ValueError, OSError) as exc:
            self.finished = True
            raise OffloadError("the other process stopped before it finished") from exc
        if kind == _ITEM:
            return payload
        self.finished = True
        if kind == _ERROR:
            raise OffloadError(payload)
        raise OffloadError("the other process ended its part")

    def close(self) -> None:
        """On the caller's end: stop the child if it is still there, and reap it."""
        pid, self.pid = self.pid, None
        for stream in (self._writer, self._reader):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        for fd in (self._scratch_in, self._scratch_out):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._scratch_in = self._scratch_out = -1
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)

    def __del__(self) -> None:
        if self.pid is not None:
            self.close()


def talk_apart(serve: Callable[[Channel], None]) -> Channel | None:
    """A forked child running ``serve(channel)``, and this process's end of the channel;
    None where forking is not safe or possible (the caller then does the work itself).

    The child sees every object the caller had built when it was forked; it must not
    touch the database (any use raises there). ``close()`` the channel when done: the
    child is stopped if it has not finished, and reaped."""
    if not can_fork():
        return None
    down_read, down_write = os.pipe()  # caller to child
    up_read, up_write = os.pipe()  # child to caller
    down_scratch, up_scratch = _scratch(), _scratch()
    try:
        pid = _fork()
    except OSError:  # no memory or processes to spare: the caller does the work
        for fd in (down_read, down_write, up_read, up_write, down_scratch, up_scratch):
            os.close(fd)
        return None
    if pid == 0:  # the child
        os.close(down_write)
        os.close(up_read)
        _serve(serve, Channel(down_read, up_write, down_scratch, up_scratch))
    os.close(down_read)
    os.close(up_write)
    return Channel(up_read, down_write, up_scratch, down_scratch, pid)


class Computed(Generic[T]):
    """A value being computed in a forked child (``computed_apart``)."""

    def __init__(self, channel: Channel) -> None:
        self._channel: Channel | None = channel

    def result(self) -> T:
        """The value, waiting for the child if it has not finished; once only.
        Raises ``OffloadError`` if the child failed."""
        channel, self._channel = self._channel, None
        if channel is None:
            raise OffloadError("the value was taken already, or dropped")
        try:
            # Our own fork's scratch file: nothing else can write into it.
            return pickle.loads(channel.recv())  # noqa: S301
        finally:
            channel.close()

    def drop(self) -> None:
        """Stop the child, the value no longer wanted."""
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def __del__(self) -> None:
        self.drop()


def computed_apart(compute: Callable[[], T]) -> Computed[T] | None:
    """``compute()`` started at once in a forked child, to be taken later with
    ``result()``: work that need not be done before the caller's next steps runs
    beside them on the second core. The child never waits for the caller: its
    value goes through the channel's scratch file whatever its size. None where
    forking is not safe or possible (the caller then does the work when it needs it)."""

    def serve(channel: Channel) -> None:
        # Always as bytes, so that a large value spills instead of filling the pipe.
        channel.send(pickle.dumps(compute(), protocol=pickle.HIGHEST_PROTOCOL))

    channel = talk_apart(serve)
    return None if channel is None else Computed(channel)


def _where(exc: BaseException) -> str:
    """Where an exception was raised (file, line, function), without its message or
    the source lines: either may quote a value."""
    where = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    )
    return f"{type(exc).__name__} in the child process:\n{where}"


def _serve(serve: Callable[[Channel], None], channel: Channel) -> None:
    """Run in the forked child: serve the caller, then leave at once (as ``_child``)."""
    code = 0
    try:
        _no_database()
        try:
            serve(channel)
        except OffloadError:  # the caller closed its end: nothing to tell it
            code = 1
        except BaseException as exc:  # noqa: BLE001 — reported to the caller below
            code = 1
            with contextlib.suppress(OSError, ValueError):
                pickle.dump((_ERROR, _where(exc)), channel._writer)
                channel._writer.flush()
        else:
            with contextlib.suppress(OSError, ValueError):
                pickle.dump((_END, None), channel._writer)
                channel._writer.flush()
    except BaseException:  # noqa: BLE001 — the caller sees the pipe close early
        code = 1
    finally:
        os._exit(code)


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
                pickle.dump((_ERROR, _where(exc)), stream)
                code = 1
            else:
                pickle.dump((_END, None), stream)
    except BaseException:  # noqa: BLE001 — the parent sees the pipe close early
        code = 1
    finally:
        os._exit(code)
