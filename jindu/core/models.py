"""Tables of the core mechanisms that need one: the tallies behind the indicator registry."""

from __future__ import annotations

from django.db import models

from jindu.core.paths import OrgPathField


class Tally(models.Model):
    """How many of something happened (or began, or ended) in one large unit on one day.

    Written by ``jindu.core.tallies`` in the same transaction as the records it
    counts, for units from the county up; read by the indicator registry so that
    a county's or a province's figure is a sum over a few hundred rows, not a
    count over millions. ``n`` may be negative: a state (people under a measure,
    people abstinent) is counted by +1 on the day it begins and −1 on the day it
    ends, and its level on a day is the running sum.

    The paths here are kept by the tallies themselves when a unit moves (its
    facts are counted again), so a move does not rewrite them.
    """

    key = models.CharField("计数项", max_length=60)
    org_path = OrgPathField("单位路径")
    day = models.DateField("日期")
    n = models.BigIntegerField("数量", default=0)

    org_path_frozen = True

    class Meta:
        verbose_name = "指标计数"
        constraints = [
            models.UniqueConstraint(fields=["key", "org_path", "day"], name="core_tally_key_day")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.org_path} {self.day:%Y-%m-%d} {self.n}"


class TallyFacts(models.Model):
    """What one record last added to the tallies: the base its next change is taken from.

    ``facts`` is a compact list ``[[key, leaf path, "YYYY-MM-DD", n], …]``. It
    holds day counts only (no personal data beyond what the tallies hold).
    """

    source = models.CharField("来源", max_length=40)
    record_id = models.BigIntegerField("记录编号")
    # The record's own path: the facts are partitioned and sharded with their record.
    org_path = OrgPathField("单位路径", default="")
    facts = models.JSONField("计数事实", default=list)

    class Meta:
        verbose_name = "记录计数事实"
        constraints = [
            models.UniqueConstraint(fields=["source", "record_id"], name="core_tallyfacts_record")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.record_id}"


class TallyPending(models.Model):
    """Records a bulk load wrote that are still to be counted (``tallies.defer``).

    While a block waits, the units on its path (and above and below) are counted
    from the records, so that no figure is stale; ``tallies.settle`` counts it
    right after the load commits and deletes the block in the same transaction.
    """

    source = models.CharField("来源", max_length=40)
    org_path = OrgPathField("单位路径")
    ids = models.JSONField("记录编号", default=list)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "待计数记录"

    def __str__(self) -> str:
        return f"{self.source}: {len(self.ids)} @ {self.org_path}"
