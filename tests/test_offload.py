"""jindu.core.offload: work done in a forked child gives what it gives in the caller."""

from __future__ import annotations

import os
import time

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


# ------------------------------------------------------------------ talk_apart


def _echo(channel: offload.Channel) -> None:
    while (item := channel.recv()) is not None:
        channel.send([item, os.getpid()])


def test_a_conversation_with_a_child_process():
    channel = offload.talk_apart(_echo)
    assert channel is not None
    try:
        for item in ("身份证号", 12, {"行": [1, 2]}, b"x" * (offload.SPILL_BYTES + 5)):
            channel.send(item)
            got, pid = channel.recv()
            assert got == item and pid == channel.pid != os.getpid()
        channel.send(None)
        with pytest.raises(offload.OffloadError):
            channel.recv()  # it has ended its part
    finally:
        channel.close()
    _no_children_left()


def test_large_payloads_never_keep_the_child_waiting_for_its_reader(tmp_path):
    """Megabytes sent before the caller reads anything: through the scratch file, the
    child finishes sending at once (a pipe holds 64 KB and would hold it back)."""
    done = tmp_path / "sent"
    blocks = [bytes([i]) * (2 << 20) for i in range(4)]

    def send_all(channel):
        for block in blocks:
            channel.send(block)
        done.write_text("sent")
        channel.recv()  # wait to be told to leave

    channel = offload.talk_apart(send_all)
    assert channel is not None
    try:
        for _ in range(200):
            if done.exists():
                break
            time.sleep(0.05)
        assert done.exists(), "the child was still sending"
        assert [channel.recv() for _ in blocks] == blocks
        channel.send(None)
    finally:
        channel.close()
    _no_children_left()


def _fails_on_its_second_item(channel):
    channel.send(channel.recv())
    channel.recv()
    raise ValueError("110105199001011237 must not be repeated")


def test_a_failure_in_the_conversation_is_raised_without_its_message():
    channel = offload.talk_apart(_fails_on_its_second_item)
    try:
        channel.send(1)
        assert channel.recv() == 1
        channel.send(2)
        with pytest.raises(offload.OffloadError) as caught:
            channel.recv()
        assert "ValueError" in str(caught.value)
        assert "110105199001011237" not in str(caught.value)
    finally:
        channel.close()
    _no_children_left()


def test_closing_stops_a_child_waiting_to_be_asked():
    channel = offload.talk_apart(_echo)
    channel.close()
    _no_children_left()
    with pytest.raises(offload.OffloadError):
        channel.send("too late")


@pytest.mark.django_db
def test_the_conversing_child_cannot_touch_the_parents_database():
    from jindu.orgs.models import OrgUnit

    def count(channel):
        channel.send(OrgUnit.objects.count())

    channel = offload.talk_apart(count)
    try:
        with pytest.raises(offload.OffloadError):
            channel.recv()
    finally:
        channel.close()
    assert OrgUnit.objects.count() >= 0


def test_no_conversation_where_forking_is_not_safe(inline):
    assert offload.talk_apart(_echo) is None


def test_a_stop_signal_to_the_process_group_is_left_to_the_parent():
    """The worker finishes the job at hand on a first Ctrl-C: its children must live on."""
    import signal

    channel = offload.talk_apart(_echo)
    items = offload.produced_apart(lambda: _squares(3))
    try:
        os.kill(channel.pid, signal.SIGINT)
        os.kill(channel.pid, signal.SIGTERM)
        os.kill(items.pid, signal.SIGTERM)
        channel.send("还在")
        assert channel.recv()[0] == "还在"
        assert [item[0] for item in items] == [0, 1, 4]
        channel.send(None)
    finally:
        channel.close()
    _no_children_left()


# ------------------------------------------------------------------ computed_apart


def test_a_value_computed_in_a_child_while_the_caller_goes_on(tmp_path):
    """The child computes at once and finishes without being read, whatever the size
    of its value (megabytes, through the scratch file)."""
    done = tmp_path / "computed"

    def compute():
        value = [(i, f"行{i}", bytes([i % 256]) * 40, os.getpid()) for i in range(100_000)]
        done.write_text("computed")
        return value

    computed = offload.computed_apart(compute)
    assert computed is not None
    for _ in range(200):
        if done.exists():
            break
        time.sleep(0.05)
    assert done.exists(), "the child did not compute before being asked"
    value = computed.result()
    assert [row[:3] for row in value] == [
        (i, f"行{i}", bytes([i % 256]) * 40) for i in range(100_000)
    ]
    assert value[0][3] != os.getpid()
    with pytest.raises(offload.OffloadError):
        computed.result()  # once only
    _no_children_left()


def _fails_computing():
    raise ValueError("110105199001011237 must not be repeated")


def test_a_failed_computation_is_raised_without_its_message():
    computed = offload.computed_apart(_fails_computing)
    assert computed is not None
    with pytest.raises(offload.OffloadError) as failed:
        computed.result()
    assert "ValueError" in str(failed.value)
    assert "110105199001011237" not in str(failed.value)
    _no_children_left()


def test_a_computation_dropped_stops_its_child():
    computed = offload.computed_apart(lambda: time.sleep(60))
    assert computed is not None
    started = time.monotonic()
    computed.drop()
    assert time.monotonic() - started < 10
    _no_children_left()


def test_nothing_computed_apart_where_forking_is_not_safe(inline):
    assert offload.computed_apart(lambda: 1) is None
