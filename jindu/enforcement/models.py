"""Enforcement records (缉毒打击): cases, their suspects, seizures and confiscated
assets; drug users caught (查处吸毒人员); drug-driving tests (毒驾检测).

Every record carries the org path of the township or village where it happened,
so it is scoped and rolled up like everything else, and the member department
that handled it (normally the county police), so that a department reporter
sees only their own department's records. What dates decide — whether a case is
solved, referred for prosecution or closed; whether a suspect was a minor at the
offence; whether a drug was synthetic — is derived when read, never stored as a
status (``jindu.enforcement.selectors``).
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q

from jindu.core.fields import BlindIndexField, EncryptedTextField
from jindu.core.paths import path_index
from jindu.core.scoping import ScopedModel
from jindu.people.models import Sex

# Grams to 0.1 g, up to 1,000,000 g (an absurd weight is refused by the services).
WEIGHT = {"max_digits": 9, "decimal_places": 1}
MONEY = {"max_digits": 14, "decimal_places": 2}


class CaseStatus(models.TextChoices):
    """The stage of a case, derived from its dates and suspects (``selectors.case_status``)."""

    FILED = "filed", "立案"
    INVESTIGATING = "investigating", "侦查"
    SOLVED = "solved", "破案"
    PROSECUTED = "prosecuted", "移送起诉"
    CLOSED = "closed", "结案"


class CausedKind(models.TextChoices):
    """A case caused by a registered drug user is a criminal or a public-order case."""

    CRIMINAL = "criminal", "刑事案件"
    PUBLIC_ORDER = "public_order", "治安案件"


class Household(models.TextChoices):
    LOCAL = "local", "本地"
    NON_LOCAL = "non_local", "外地"


class Case(ScopedModel):
    """A drug case, or a criminal or public-order case caused by a registered drug user.

    ``org_unit`` is the township or village where it happened; ``department`` the
    member department handling it (normally the county police).
    """

    number = models.CharField("案件编号", max_length=40)
    offence = models.CharField("案件类别", max_length=50)  # code list "offence"
    occurred_on = models.DateField("案发日期", null=True, blank=True)
    filed_on = models.DateField("立案日期")
    solved_on = models.DateField("破案日期", null=True, blank=True)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="+", verbose_name="办案单位"
    )
    street_dealing = models.BooleanField("零包贩毒", default=False)
    gang = models.BooleanField("团伙案件", default=False)
    synthetic_drug = models.BooleanField("合成毒品案件（除冰肃毒）", default=False)
    caused_by_user = models.BooleanField("吸毒人员引发", default=False)
    caused_kind = models.CharField(
        "引发案件性质", max_length=20, choices=CausedKind.choices, blank=True
    )
    caused_person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="引发案件的吸毒人员",
    )
    summary = models.TextField("简要案情", blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["-filed_on", "-id"]
        verbose_name = "涉毒案件"
        indexes = [
            path_index("enforcement_case"),
            # Date first, then the path: a year's rows are one range of the index, and
            # the subtree test and the grouping by path read the index alone.
            models.Index(
                fields=["solved_on", "org_path", "offence", "street_dealing"],
                name="enforcement_case_solved",
            ),
            models.Index(
                fields=["filed_on", "org_path", "caused_by_user"], name="enforcement_case_filed"
            ),
        ]
        constraints = [
            # The service checks uniqueness within the county; one department's own
            # numbers are unique in the database too, whatever writes them.
            models.UniqueConstraint(fields=["department", "number"], name="case_unique_number"),
            models.CheckConstraint(
                condition=Q(solved_on__isnull=True) | Q(solved_on__gte=models.F("filed_on")),
                name="case_solved_not_before_filed",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def audit_label(self) -> str:
        return f"案件 {self.number}"

    @property
    def offence_day(self) -> date:
        """The day a suspect's age is taken on: the day it happened, else the day it was filed."""
        return self.occurred_on or self.filed_on


class Suspect(ScopedModel):
    """A criminal suspect of a case. Identity protected like a registered person's."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="suspects")
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedTextField("身份证号")
    id_index = BlindIndexField("身份证号索引", db_index=True)
    # Sex and birth date are read from the ID number; the 18th birthday too, so that
    # "a minor at the offence" is one comparison of two dates in SQL.
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    adult_on = models.DateField("年满十八周岁日期")
    household = models.CharField("户籍", max_length=10, choices=Household.choices)
    caught_on = models.DateField("到案日期")
    prosecuted_on = models.DateField("移送起诉日期", null=True, blank=True)
    sentenced_on = models.DateField("判决日期", null=True, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "case__department"
    personal_data = True
    personal_fields = {"id_number": "id_number"}

    class Meta:
        # By the column, not the case: ordering by the relation would join the case's own.
        ordering = ["case_id", "id"]
        verbose_name = "犯罪嫌疑人"
        indexes = [
            path_index("enforcement_suspect"),
            models.Index(
                fields=["prosecuted_on", "org_path", "case"], name="enforcement_suspect_prosec"
            ),
            models.Index(
                fields=["caught_on", "org_path", "case", "adult_on"],
                name="enforcement_suspect_caught",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "id_index"], name="suspect_once_per_case")
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"案件#{self.case_id} 犯罪嫌疑人#{self.pk}"


class Seizure(ScopedModel):
    """Drugs seized (缴获毒品), by drug type, in grams to 0.1 g; part of a case or not."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="seizures"
    )
    seized_on = models.DateField("缴获日期")
    drug_type = models.CharField("毒品种类", max_length=50)  # code list "drug_type"
    weight_g = models.DecimalField("重量（克）", **WEIGHT)
    pills = models.PositiveIntegerField("粒数", null=True, blank=True)
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="+", verbose_name="办案单位"
    )
    notes = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "department"

    class Meta:
        ordering = ["-seized_on", "-id"]
        verbose_name = "缴获毒品"
        indexes = [
            path_index("enforcement_seizure"),
            # Covers the sums by drug type: no table row is read for an indicator.
            models.Index(
                fields=["seized_on", "org_path", "drug_type", "weight_g"],
                name="enforcement_seizure_day",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_g__gt=0) & Q(weight_g__lte=1_000_000),
                name="seizure_weight_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.seized_on} {self.drug_type} {self.weight_g}克"

    def audit_label(self) -> str:
        return f"缴获#{self.pk} {self.seized_on:%Y-%m-%d}"


class AssetConfiscation(ScopedModel):
    """Assets confiscated in a case (收缴涉毒资产), in yuan."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assets")
    confiscated_on = models.DateField("收缴日期")
    kind = models.CharField("资产类别", max_length=50)  # code list "asset_kind"
    amount = models.DecimalField("价值（元）", **MONEY)
    description = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "case__department"

    class Meta:
        ordering = ["-confiscated_on", "-id"]
        verbose_name = "收缴涉毒资产"
        indexes = [
            path_index("enforcement_asset"),
            models.Index(fields=["confiscated_on", "org_path"], name="enforcement_asset_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="asset_amount_not_negative")
        ]

    def audit_label(self) -> str:
        return f"案件#{self.case_id} 涉毒资产#{self.pk}"


class Outcome(models.TextChoices):
    DETENTION = "detention", "行政拘留"
    COMMUNITY_DETOX = "community_detox", "责令社区戒毒"
    ISOLATION = "compulsory_isolation", "强制隔离戒毒"
    OTHER = "other", "其他"


class UserCaught(ScopedModel):
    """One occasion a drug user was caught using (查处吸毒人员, counted per occurrence).

    Linked to the register when the person is on it; until then the name and ID
    number are kept here, encrypted, to be linked later.
    """

    caught_on = models.DateField("查获日期")
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="名册人员",
    )
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedTextField("身份证号")
    id_index = BlindIndexField("身份证号索引", db_index=True)
    drug_type = models.CharField("吸食毒品种类", max_length=50)  # code list "drug_type"
    outcome = models.CharField("处理结果", max_length=30, choices=Outcome.choices)
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="+", verbose_name="查处单位"
    )
    notes = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "department"
    personal_data = True
    personal_fields = {"id_number": "id_number"}

    class Meta:
        ordering = ["-caught_on", "-id"]
        verbose_name = "查处吸毒人员"
        indexes = [
            path_index("enforcement_usercaught"),
            models.Index(
                fields=["caught_on", "org_path", "drug_type"], name="enforcement_caught_day"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"查处吸毒人员#{self.pk} {self.caught_on:%Y-%m-%d}"


class DrivingResult(models.TextChoices):
    POSITIVE = "positive", "阳性"
    NEGATIVE = "negative", "阴性"


class DrugDrivingTest(ScopedModel):
    """A drug test of a driver (毒驾检测); a positive licence holder is reported for cancellation."""

    tested_on = models.DateField("检测日期")
    name = models.CharField("姓名", max_length=50)
    id_number = EncryptedTextField("身份证号")
    id_index = BlindIndexField("身份证号索引", db_index=True)
    plate = models.CharField("车牌号", max_length=20, blank=True)
    result = models.CharField("检测结果", max_length=10, choices=DrivingResult.choices)
    licence_held = models.BooleanField("持有驾驶证", default=False)
    licence_reported_on = models.DateField("报请注销驾驶证日期", null=True, blank=True)
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.PROTECT, related_name="+", verbose_name="检测单位"
    )
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "department"
    personal_data = True
    personal_fields = {"id_number": "id_number"}

    class Meta:
        ordering = ["-tested_on", "-id"]
        verbose_name = "毒驾检测"
        indexes = [
            path_index("enforcement_drivingtest"),
            models.Index(
                fields=["licence_reported_on", "org_path"], name="enforcement_licence_day"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"毒驾检测#{self.pk} {self.tested_on:%Y-%m-%d}"
