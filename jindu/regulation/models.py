"""Precursor chemicals and controlled medicines (易制毒化学品, 精麻药品): the catalogue,
the units that handle them, their licences and ledgers, the findings of a
reconciliation and the special-check campaigns.

Quantities are kept in the unit of measure of the catalogue item (kg or L, or a
count such as 支 for medicines), with three decimals; what the user typed is
kept beside them. Whether a licence is expiring, a sale reported late or a
campaign complete is decided from dates at query time, never stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.db.models import Q

from jindu.core.fields import EncryptedTextField
from jindu.core.paths import path_index
from jindu.core.scoping import ScopedModel

QUANTITY = {"max_digits": 16, "decimal_places": 3}


class Substance(models.Model):
    """An item of the precursor catalogue or of the controlled-medicine catalogue.

    The shipped catalogue (``data/catalogue.json``) is loaded after ``migrate``;
    the system administrator adds later listings in the UI.
    """

    class Catalogue(models.TextChoices):
        PRECURSOR = "precursor", "易制毒化学品"
        MEDICINE = "medicine", "麻醉药品和精神药品"

    code = models.CharField("编号", max_length=20, unique=True)
    name = models.CharField("品种名称", max_length=100)
    aliases = models.CharField("别名", max_length=200, blank=True)
    catalogue = models.CharField("目录", max_length=20, choices=Catalogue.choices)
    # Code list "substance_category": 第一/二/三类易制毒化学品, 麻醉药品, 第一/二类精神药品.
    category = models.CharField("类别", max_length=30)
    # Code list "measure_unit": the unit every ledger quantity of this item is kept in.
    unit = models.CharField("计量单位", max_length=10)
    # Kilograms per litre, for converting between mass and volume; empty: no conversion.
    density = models.DecimalField(
        "密度（千克/升）", max_digits=8, decimal_places=4, null=True, blank=True
    )
    # 药品类易制毒化学品: the ones marked * in the regulation's annex.
    pharmaceutical = models.BooleanField("药品类", default=False)
    # The year the item was added to the catalogue after the original annex; empty: in it.
    listed_year = models.PositiveSmallIntegerField("增补年份", null=True, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    builtin = models.BooleanField("随系统提供", default=False)
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        ordering = ["catalogue", "category", "code"]
        verbose_name = "目录品种"

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"{self.code} {self.name}"


class RegulatedUnit(ScopedModel):
    """A unit that makes, sells, transports, uses or stores precursors, or a medical
    institution or pharmacy holding controlled medicines (监管单位).

    ``org_unit`` is the township or village where it is located; ``department``
    the member department responsible for it, whose reporters see only theirs.
    """

    name = models.CharField("单位名称", max_length=100)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    # Code list "regulated_unit_kind".
    kind = models.CharField("单位类别", max_length=30)
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.PROTECT,
        related_name="regulated_units",
        verbose_name="监管部门",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    # The ledger starts here: no line may be dated before it.
    registered_on = models.DateField("登记日期")
    closed_on = models.DateField("停业/注销日期", null=True, blank=True)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["org_path", "name", "id"]
        verbose_name = "监管单位"
        indexes = [path_index("regulation_regulatedunit")]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="regulatedunit_unique_credit_code",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"监管单位 {self.name}"

    def is_open_on(self, day: date) -> bool:
        return self.registered_on <= day and (self.closed_on is None or day <= self.closed_on)


class Licence(ScopedModel):
    """A licence or filing certificate (许可证/备案证明) with its validity, both ends inclusive."""

    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.CASCADE, related_name="licences", verbose_name="单位"
    )
    # Code list "licence_kind".
    kind = models.CharField("证件种类", max_length=40)
    number = models.CharField("证件编号", max_length=60)
    issuer = models.CharField("发证机关", max_length=100, blank=True)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_department_field = "unit__department"

    class Meta:
        ordering = ["unit", "valid_until", "id"]
        verbose_name = "许可证/备案证明"
        indexes = [
            path_index("regulation_licence"),
            models.Index(fields=["valid_until"], name="regulation_licence_until"),
        ]

    def __str__(self) -> str:
        return self.number

    def audit_label(self) -> str:
        return f"证件 {self.number}"

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def expiring(self, today: date, warning_days: int) -> bool:
        return today <= self.valid_until <= today + timedelta(days=warning_days)

    def expired(self, today: date) -> bool:
        return self.valid_until < today


class Allowance(models.Model):
    """An item a unit may handle (核定品种) and the quantity it may buy in a year."""

    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.CASCADE, related_name="allowances", verbose_name="单位"
    )
    substance = models.ForeignKey(
        Substance, on_delete=models.PROTECT, related_name="+", verbose_name="品种"
    )
    # The licence that covers the item; empty: any valid licence of the unit covers it.
    licence = models.ForeignKey(
        Licence,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="allowances",
        verbose_name="依据证件",
    )
    yearly_quantity = models.DecimalField("年度核定购买量", null=True, blank=True, **QUANTITY)

    class Meta:
        ordering = ["unit", "substance__code"]
        verbose_name = "核定品种"
        constraints = [
            models.UniqueConstraint(fields=["unit", "substance"], name="allowance_unique_item")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}:{self.substance_id}"

    def audit_label(self) -> str:
        return f"监管单位#{self.unit_id} 核定品种 {self.substance_id}"


class Contact(models.Model):
    """A contact person of a unit; the phone is encrypted and shown masked."""

    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.CASCADE, related_name="contacts", verbose_name="单位"
    )
    name = models.CharField("姓名", max_length=50)
    title = models.CharField("职务", max_length=50, blank=True)
    phone = EncryptedTextField("联系电话")

    personal_fields = {"phone": "phone"}

    class Meta:
        ordering = ["unit", "id"]
        verbose_name = "联系人"

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"监管单位#{self.unit_id} 联系人#{self.pk}"


class EntryKind(models.TextChoices):
    """The kinds of ledger line. Reconciliation reads each kind's direction, so the
    list is part of the rules rather than a list the county extends."""

    OPENING = "opening", "期初结存"
    PURCHASE = "purchase", "购入"
    PRODUCTION = "production", "生产入库"
    TRANSFER_IN = "transfer_in", "调入"
    SALE = "sale", "销售"
    USE = "use", "使用消耗"
    TRANSFER_OUT = "transfer_out", "调出"
    LOSS = "loss", "损耗/丢失"
    DESTRUCTION = "destruction", "销毁"
    COUNT = "count", "盘点实存"


INFLOWS = frozenset({EntryKind.PURCHASE, EntryKind.PRODUCTION, EntryKind.TRANSFER_IN})
OUTFLOWS = frozenset(
    {
        EntryKind.SALE,
        EntryKind.USE,
        EntryKind.TRANSFER_OUT,
        EntryKind.LOSS,
        EntryKind.DESTRUCTION,
    }
)
# Lines that state the stock rather than move it: an opening stock at the start
# of its day, a counted stock at the end of its day.
ANCHORS = frozenset({EntryKind.OPENING, EntryKind.COUNT})
# Lines that name the other party.
WITH_COUNTERPARTY = frozenset(
    {EntryKind.PURCHASE, EntryKind.SALE, EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT}
)
# Lines that need a valid licence on their date.
LICENSED = frozenset({EntryKind.PURCHASE, EntryKind.SALE})


def day_order(kind: str) -> int:
    """Where a line stands within its day: opening first, movements, the count last."""
    if kind == EntryKind.OPENING:
        return 0
    return 2 if kind == EntryKind.COUNT else 1


class LedgerEntry(ScopedModel):
    """One line of a unit's ledger (台账) for one item. Lines are never edited: a wrong
    line is voided with a reason and entered again."""

    # Two million lines a year in a province: the FKs ride on the composite index
    # below instead of an index each, which would only slow every insert.
    unit = models.ForeignKey(
        RegulatedUnit,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name="单位",
        db_index=False,
    )
    substance = models.ForeignKey(
        Substance, on_delete=models.PROTECT, related_name="+", verbose_name="品种", db_index=False
    )
    kind = models.CharField("类型", max_length=20, choices=EntryKind.choices)
    occurred_on = models.DateField("日期")
    quantity = models.DecimalField("数量（折算）", **QUANTITY)
    entered_quantity = models.DecimalField("填报数量", **QUANTITY)
    entered_unit = models.CharField("填报单位", max_length=10)
    counterparty_unit = models.ForeignKey(
        RegulatedUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="往来单位（已登记）",
        db_index=False,
    )
    counterparty_name = models.CharField("往来单位", max_length=100, blank=True)
    document_no = models.CharField("单据号", max_length=60, blank=True)
    # When the sale was reported to the police (流向报告); the deadline is a rule, not a field.
    reported_on = models.DateField("报告日期", null=True, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    void_reason = models.CharField("作废原因", max_length=200, blank=True)

    scope_department_field = "unit__department"

    class Meta:
        # Not by unit: that would join the unit's own ordering into every query.
        ordering = ["occurred_on", "id"]
        verbose_name = "台账记录"
        indexes = [
            path_index("regulation_ledgerentry"),
            models.Index(fields=["unit", "substance", "occurred_on"], name="regulation_entry_book"),
            models.Index(fields=["occurred_on"], name="regulation_entry_date"),
            # Everything the reconciliation reads, in book order, for the live lines
            # only: its scans and probes never touch the table (an index-only plan).
            models.Index(
                fields=[
                    "unit",
                    "substance",
                    "occurred_on",
                    "kind",
                    "quantity",
                    "counterparty_unit",
                    "reported_on",
                    "voided_at",
                ],
                name="regulation_entry_live",
                condition=Q(voided_at__isnull=True),
            ),
            # The stated stocks alone (a dozen a year per item), which the balance
            # rule walks before it sums the movements between them.
            models.Index(
                fields=["unit", "substance", "occurred_on", "kind", "quantity"],
                name="regulation_entry_stock",
                condition=Q(voided_at__isnull=True, kind__in=["opening", "count"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="ledgerentry_quantity_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_kind_display()} {self.quantity}"

    def audit_label(self) -> str:
        return f"台账#{self.pk} {self.occurred_on} {self.get_kind_display()}"

    @property
    def delta(self) -> Decimal:
        """What the line does to the book stock."""
        if self.kind in INFLOWS:
            return self.quantity
        if self.kind in OUTFLOWS:
            return -self.quantity
        return Decimal(0)


class FindingKind(models.TextChoices):
    BALANCE = "balance", "账实不符"
    UNMATCHED_SALE = "unmatched_sale", "销售无对应购入"
    UNMATCHED_PURCHASE = "unmatched_purchase", "购入无对应销售"
    LATE_REPORT = "late_report", "销售未按时报告"
    OVER_ALLOWANCE = "over_allowance", "超核定数量购买"


class Finding(ScopedModel):
    """A discrepancy found by reconciliation, followed up until closed with a note.

    ``key`` names the evidence (the count line, the sale, the unit-item-year), so
    that running the reconciliation again finds the same finding, not a new one.
    """

    key = models.CharField("标识", max_length=100, unique=True)
    kind = models.CharField("问题类型", max_length=20, choices=FindingKind.choices)
    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.PROTECT, related_name="findings", verbose_name="单位"
    )
    substance = models.ForeignKey(
        Substance, on_delete=models.PROTECT, related_name="+", verbose_name="品种"
    )
    entry = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="台账记录",
    )
    # In the item's unit: counted minus book for a balance (negative: stock missing),
    # the quantity sold or bought, or the excess over the yearly allowance.
    amount = models.DecimalField("数量", **QUANTITY)
    days = models.IntegerField("超期天数", null=True, blank=True)
    period_start = models.DateField("所属期间起")
    period_end = models.DateField("所属期间止")
    found_on = models.DateField("发现日期")
    found_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_user = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="跟进人",
    )
    assigned_department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="跟进部门",
    )
    assigned_at = models.DateTimeField("交办时间", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_note = models.TextField("办结说明", blank=True)

    scope_department_field = "unit__department"

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = "核对问题"
        indexes = [
            path_index("regulation_finding"),
            models.Index(fields=["kind", "period_end"], name="regulation_finding_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def audit_label(self) -> str:
        return f"核对问题#{self.pk} {self.get_kind_display()}"

    @property
    def status(self) -> str:
        if self.closed_on:
            return "closed"
        if self.assigned_user_id or self.assigned_department_id:
            return "assigned"
        return "open"


class Campaign(ScopedModel):
    """A special-check campaign (专项核对检查): the units listed to check and their checks.

    ``org_unit`` is the unit that runs it; townships below see their part of it.
    """

    name = models.CharField("名称", max_length=100)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    description = models.TextField("工作要求", blank=True)
    # The filters the units were chosen by, as the campaign page shows them.
    criteria = models.JSONField("选取条件", default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = "专项核对检查"
        indexes = [path_index("regulation_campaign")]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"专项检查 {self.name}"


class CampaignTarget(ScopedModel):
    """A unit listed in a campaign; ``org_path`` is the unit's, so that each township
    sees and counts its own."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="targets", verbose_name="专项检查"
    )
    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.PROTECT, related_name="+", verbose_name="单位"
    )

    scope_department_field = "unit__department"

    class Meta:
        ordering = ["campaign", "org_path", "id"]
        verbose_name = "检查对象"
        indexes = [path_index("regulation_campaigntarget")]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="campaigntarget_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.unit_id}"

    def audit_label(self) -> str:
        return f"专项检查#{self.campaign_id} 单位#{self.unit_id}"


class UnitCheck(ScopedModel):
    """One check of a listed unit: when, by whom, what was found."""

    target = models.ForeignKey(
        CampaignTarget, on_delete=models.CASCADE, related_name="checks", verbose_name="检查对象"
    )
    unit = models.ForeignKey(
        RegulatedUnit, on_delete=models.PROTECT, related_name="checks", verbose_name="单位"
    )
    checked_on = models.DateField("检查日期")
    checkers = models.CharField("检查人员", max_length=100)
    # Code list "check_result".
    result = models.CharField("检查结果", max_length=30)
    notes = models.TextField("情况说明", blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "unit__department"

    class Meta:
        ordering = ["-checked_on", "-id"]
        verbose_name = "核查记录"
        indexes = [
            path_index("regulation_unitcheck"),
            models.Index(fields=["checked_on"], name="regulation_check_date"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.checked_on}"

    def audit_label(self) -> str:
        return f"核查记录#{self.pk}"


# The regulation's reporting deadlines for sales (易制毒化学品管理条例 art. 19 as
# commonly applied): category 1 within 5 days, categories 2 and 3 within 30.
DEFAULT_REPORT_DAYS = {"precursor_1": 5, "precursor_2": 30, "precursor_3": 30}


class RegulationPolicy(models.Model):
    """The county's settings for regulation, one row, kept by the county office."""

    licence_warning_days = models.PositiveSmallIntegerField("证件到期提前提醒天数", default=60)
    # Days allowed to report a sale, by category code; a category not listed has no deadline.
    report_days = models.JSONField("销售报告期限（天）", default=dict, blank=True)
    match_window_days = models.PositiveSmallIntegerField("购销比对日期相差天数", default=7)
    match_tolerance_percent = models.DecimalField(
        "购销比对数量允许误差（%）", max_digits=5, decimal_places=2, default=Decimal("1.00")
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "监管规则"

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def audit_label(self) -> str:
        return "禁毒监管规则"

    @classmethod
    def current(cls) -> RegulationPolicy:
        policy = cls.objects.filter(pk=1).first()
        if policy is None:
            policy, _created = cls.objects.get_or_create(
                pk=1, defaults={"report_days": dict(DEFAULT_REPORT_DAYS)}
            )
        return policy

    def deadline_days(self, category: str) -> int | None:
        value = (self.report_days or {}).get(category)
        return int(value) if value not in (None, "") else None
