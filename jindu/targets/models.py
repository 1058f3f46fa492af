"""Targets and what is measured against them: reported values, the targets the city
sets for the county and their breakdown, responsibility letters, key townships.

Figures themselves are never stored here except the ones a unit reports
(``ReportedValue``): everything computed comes from the indicator registry
at the moment it is read.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.db.models import Q

from jindu.core.paths import path_index
from jindu.core.scoping import ScopedModel
from jindu.inspections.storage import dated_name, private_storage


class PeriodKind(models.TextChoices):
    YEAR = "year", "年度"
    QUARTER = "quarter", "季度"


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"


def template_upload_to(instance: object, filename: str) -> str:
    return dated_name("targets/templates", "docx")


def letter_upload_to(instance: object, filename: str) -> str:
    return dated_name("targets/letters", "docx")


def scan_upload_to(instance: object, filename: str) -> str:
    # Random names: nothing in a stored file's name says whose letter it is.
    return dated_name("targets/scans", _extension(filename))


def period_bounds(year: int, quarter: int) -> tuple[date, date]:
    """[start, end) of a year (quarter 0) or of one of its quarters."""
    if not quarter:
        return date(year, 1, 1), date(year + 1, 1, 1)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def period_label(year: int, quarter: int) -> str:
    return f"{year}年第{quarter}季度" if quarter else f"{year}年度"


class ReportingRule(models.Model):
    """Who reports a reported indicator, how often, and until when after the period."""

    indicator_key = models.CharField("指标", max_length=50, unique=True)
    # The level of the unit that reports (township: each township its own figure).
    level = models.CharField("填报单位层级", max_length=10)
    # A member department that reports it (by short name, e.g. 教育局), at the county.
    department_name = models.CharField("填报部门", max_length=30, blank=True)
    period_kind = models.CharField("填报周期", max_length=10, choices=PeriodKind.choices)
    deadline_days = models.PositiveSmallIntegerField("期末后填报期限（天）", default=31)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["indicator_key"]
        verbose_name = "填报规则"

    def __str__(self) -> str:
        return self.indicator_key

    def deadline(self, year: int, quarter: int) -> date:
        """The last day a value for the period may be entered."""
        _start, end = period_bounds(year, quarter)
        return end - timedelta(days=1) + timedelta(days=self.deadline_days)


class ReportedValue(ScopedModel):
    """A value a responsible unit reports for a period (e.g. a survey's awareness rate)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已报送"
        APPROVED = "approved", "已审核"
        RETURNED = "returned", "已退回"

    indicator_key = models.CharField("指标", max_length=50)
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度", default=0)  # 0: the whole year
    value = models.DecimalField("数值", max_digits=12, decimal_places=2, null=True, blank=True)
    # Respondents of a survey, students of a platform …: the weight in an aggregate.
    sample_size = models.PositiveIntegerField("样本量", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    return_note = models.CharField("退回意见", max_length=200, blank=True)
    # The county office may let a unit enter a value after the deadline, until this day.
    unlocked_until = models.DateField("补报截止日期", null=True, blank=True)
    entered_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["-year", "-quarter", "indicator_key", "org_path"]
        verbose_name = "填报指标值"
        indexes = [
            path_index("targets_reportedvalue"),
            models.Index(fields=["indicator_key", "year", "status"], name="targets_reported_key"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_key", "org_unit", "year", "quarter"],
                name="reported_value_once_per_period",
            )
        ]

    def audit_label(self) -> str:
        return (
            f"{self.indicator_key} {period_label(self.year, self.quarter)} {self.org_unit_id}号单位"
        )

    @property
    def period_label(self) -> str:
        return period_label(self.year, self.quarter)


class Target(ScopedModel):
    """A target the city set for the county for a year (``org_unit`` is the county)."""

    year = models.PositiveSmallIntegerField("年度")
    indicator_key = models.CharField("指标", max_length=50)
    value = models.DecimalField("目标值", max_digits=14, decimal_places=3)
    note = models.CharField("说明", max_length=200, blank=True)
    set_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["year", "indicator_key"]
        verbose_name = "目标任务"
        indexes = [path_index("targets_target")]
        constraints = [
            models.UniqueConstraint(
                fields=["org_unit", "year", "indicator_key"], name="target_once_per_year"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
        ]

    def audit_label(self) -> str:
        return f"{self.year}年 {self.indicator_key} 目标"


class TargetShare(ScopedModel):
    """A part of a county target given to a township (``org_unit``) or to a member
    department (``department``; ``org_unit`` is then the county)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="shares")
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField("分解值", max_digits=14, decimal_places=3)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["target", "org_path", "department_id"]
        verbose_name = "目标分解"
        indexes = [path_index("targets_targetshare")]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "org_unit"],
                condition=Q(department__isnull=True),
                name="share_once_per_unit",
            ),
            models.UniqueConstraint(
                fields=["target", "department"],
                condition=Q(department__isnull=False),
                name="share_once_per_department",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="share_not_negative"),
        ]

    def audit_label(self) -> str:
        return f"{self.target_id}号目标分解"


class LetterKind(models.TextChoices):
    STANDARD = "standard", "禁毒工作目标责任书"
    KEY_TOWNSHIP = "key_township", "毒品问题重点整治责任书"


class LetterTemplate(ScopedModel):
    """A .docx the county office uploaded as the form of its letters (the latest is used)."""

    kind = models.CharField("种类", max_length=20, choices=LetterKind.choices)
    file = models.FileField("模板文件", storage=private_storage, upload_to=template_upload_to)
    original_name = models.CharField("原文件名", max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = "责任书模板"
        indexes = [path_index("targets_lettertemplate")]

    def audit_label(self) -> str:
        return f"{self.get_kind_display()}模板"


class KeyTownship(ScopedModel):
    """A township listed for focused remediation of its drug problem (重点整治乡镇)."""

    listed_on = models.DateField("列入日期")
    delisted_on = models.DateField("摘帽日期", null=True, blank=True)
    listed_by = models.CharField("列入机关", max_length=100, blank=True)
    reason = models.CharField("列入原因", max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["-listed_on", "-id"]
        verbose_name = "重点整治乡镇"
        indexes = [path_index("targets_keytownship")]
        constraints = [
            models.CheckConstraint(
                condition=Q(delisted_on__isnull=True) | Q(delisted_on__gte=models.F("listed_on")),
                name="key_township_delisted_after_listed",
            )
        ]

    def audit_label(self) -> str:
        return f"重点整治乡镇 {self.org_unit_id}号单位 {self.listed_on:%Y-%m-%d}"


class RemediationTask(ScopedModel):
    """One task of a key township's remediation, tracked until it is done."""

    key_township = models.ForeignKey(KeyTownship, on_delete=models.CASCADE, related_name="tasks")
    task = models.CharField("整治任务", max_length=300)
    deadline = models.DateField("完成时限")
    done_on = models.DateField("完成日期", null=True, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = "整治任务"
        indexes = [path_index("targets_remediationtask")]

    def audit_label(self) -> str:
        return f"{self.key_township_id}号重点整治乡镇 整治任务#{self.pk}"


class ResponsibilityLetter(ScopedModel):
    """A township's or a department's responsibility letter (责任书) for a year.

    ``org_unit`` is the township, or the county for a department's letter.
    Drafted (the .docx generated from the template), issued, then signed with
    the signed scan attached.
    """

    class Status(models.TextChoices):
        DRAFTED = "drafted", "已起草"
        ISSUED = "issued", "已下发"
        SIGNED = "signed", "已签订"

    kind = models.CharField("种类", max_length=20, choices=LetterKind.choices)
    year = models.PositiveSmallIntegerField("年度")
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    key_township = models.ForeignKey(
        KeyTownship, on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFTED)
    duties = models.TextField("工作职责", blank=True)
    county_signatory = models.CharField("县禁毒委签订人", max_length=50, blank=True)
    unit_signatory = models.CharField("责任单位签订人", max_length=50, blank=True)
    document = models.FileField(
        "责任书文本", storage=private_storage, upload_to=letter_upload_to, blank=True
    )
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)
    issued_on = models.DateField("下发日期", null=True, blank=True)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    scan = models.FileField(
        "签字盖章扫描件", storage=private_storage, upload_to=scan_upload_to, blank=True
    )
    scan_type = models.CharField("扫描件类型", max_length=30, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["year", "kind", "org_path", "department_id"]
        verbose_name = "责任书"
        indexes = [path_index("targets_responsibilityletter")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "org_unit"],
                condition=Q(department__isnull=True),
                name="letter_once_per_unit",
            ),
            models.UniqueConstraint(
                fields=["kind", "year", "department"],
                condition=Q(department__isnull=False),
                name="letter_once_per_department",
            ),
        ]

    def audit_label(self) -> str:
        return f"{self.year}年{self.get_kind_display()} {self.org_unit_id}号单位"

    @property
    def party_name(self) -> str:
        """The responsible party: the department's full name, or the township's."""
        return self.department.name if self.department_id else self.org_unit.name
