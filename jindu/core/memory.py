"""Long work and Python's cycle collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector held off during long work (a sheet read, checked and
    written; a background job).

    A 100,000-row sheet makes millions of objects that all live until the end;
    the collector would walk them again and again (half the time of a large
    import) and find nothing to free. Reference counting still frees the rest;
    what is still alive when the block ends is walked once by the next collection,
    so free it inside the block. Nested blocks leave the collector to the outermost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
