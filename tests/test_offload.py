"""jindu.core.offload: work done in a forked child gives what it gives in the caller."""

from __future__ import annotations

import os

import pytest

from jindu.core import offload


def _squares(n: int):
    for i in range(n):
        yield [i * i, f"行{i}", os.getpid()]


@pytest.fixture
def inline(monkeypatch):
    monkeypatch.setattr(offload, "INLINE", True)


def test_items_come_from_a_child_process_in_order():
    assert offload.can_fork()
    items = list(offload.produced_apart(lambda: _squares(2000)))
    assert [item[:2] for item in items] == [[i * i, f"行{i}"] for i in range(2000)]
    assert {item[2] for item in items} == {items[0][2]}
    assert items[0][2] != os.getpid()


def test_inline_gives_the_same_items_in_this_process(inline):
    assert not offload.can_fork()
    items = list(offload.produced_apart(lambda: _squares(50)))
    assert [item[:2] for item in items] == [[i * i, f"行{i}"] for i in range(50)]
    assert {item[2] for item in items} == {os.getpid()}


def _failing():
    yield 1
    raise ValueError("110105199001011237 must not be repeated")


def test_a_failure_in_the_child_is_raised_without_its_message():
    items = offload.produced_apart(_failing)
    assert next(items) == 1
    with pytest.raises(offload.OffloadError) as caught:
        next(items)
    text = str(caught.value)
    assert "ValueError" in text
    assert "_failing" in text
    assert "110105199001011237" not in text
    _no_children_left()


def test_stopping_early_leaves_no_child_behind():
    items = offload.produced_apart(lambda: _squares(10_000_000))
    assert next(items)[0] == 0
    items.close()
    _no_children_left()


@pytest.mark.django_db
def test_the_child_cannot_touch_the_parents_database():
    from jindu.orgs.models import OrgUnit

    def query():
        yield OrgUnit.objects.count()

    with pytest.raises(offload.OffloadError) as caught:
        list(offload.produced_apart(query))
    assert "OffloadError" in str(caught.value)
    # The parent's connection is untouched.
    assert OrgUnit.objects.count() >= 0


def test_no_fork_while_another_thread_runs():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not offload.can_fork()
        assert [item[:2] for item in offload.produced_apart(lambda: _squares(3))] == [
            [0, "行0"],
            [1, "行1"],
            [4, "行2"],
        ]
    finally:
        stop.set()
        thread.join()


def _no_children_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_an_iterator_dropped_unread_stops_its_child():
    items = offload.produced_apart(lambda: _squares(10_000_000))
    del items
    _no_children_left()
