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


class Job(models.Model):
    """A piece of long work (an import's check or write, counting a bulk load) run by
    ``jindu worker`` outside the web request, with its progress (``jindu.core.jobs``).

    ``params`` and ``result`` hold keys and counts only, never personal data: an
    import's sheet stays in the encrypted stash and is named here by its token.
    ``error`` is the Chinese message its user sees, never a traceback.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "进行中"
        DONE = "done", "已完成"
        FAILED = "failed", "未完成"

    kind = models.CharField("任务类型", max_length=60)
    # Who asked for it (None: the system). Jobs are purged after some days, so
    # that a user who had one can still be deleted then.
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The actor's unit (or "/" for a system job): jobs are scoped like every table.
    org_path = OrgPathField("单位路径", default="/")
    # Where the request that queued it came from: the address its audit rows name.
    client_address = models.CharField("客户端地址", max_length=64, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField("进度说明", max_length=120, blank=True)
    done = models.BigIntegerField("已完成数", default=0)
    total = models.BigIntegerField("总数", default=0)
    params = models.JSONField("参数", default=dict, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.CharField("错误说明", max_length=500, blank=True)
    worker = models.CharField("执行进程", max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField("执行次数", default=0)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近进度时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        indexes = [
            # The claim (the oldest queued job) and the search for stale running ones.
            models.Index(fields=["status", "id"], name="core_job_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def failed(self) -> bool:
        return self.status == self.Status.FAILED

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return max(0, min(100, int(self.done * 100 / self.total)))
