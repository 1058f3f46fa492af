"""Key venues, courier outlets and cultivation patrols: the registers, their checks and
what was found and fixed.

Nothing a date decides is stored. A venue's colour (green, yellow, red, blue),
a letter about to expire, a township's patrol coverage and its one-vote veto
are computed when asked, from the dated facts kept here
(``jindu.inspections.selectors``, ``jindu.inspections.coverage``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from jindu.core.fields import EncryptedTextField
from jindu.core.paths import path_index
from jindu.core.scoping import ScopedModel
from jindu.inspections.storage import photo_upload_to, private_storage, scan_upload_to


class InspectionRules(models.Model):
    """The county's local rules for the checks, one row, kept by the county office."""

    class VenuePeriod(models.IntegerChoices):
        MONTH = 1, "每月"
        QUARTER = 3, "每季度"
        HALF_YEAR = 6, "每半年"
        YEAR = 12, "每年"

    venue_period_months = models.PositiveSmallIntegerField(
        "重点场所检查周期", choices=VenuePeriod.choices, default=VenuePeriod.QUARTER
    )
    letter_warning_days = models.PositiveSmallIntegerField("责任书到期提前提醒（天）", default=30)
    patrol_first_month = models.PositiveSmallIntegerField("踏查季起始月份", default=2)
    patrol_last_month = models.PositiveSmallIntegerField("踏查季截止月份", default=9)
    patrol_minimum = models.PositiveSmallIntegerField("踏查季每乡镇最少踏查次数", default=6)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "禁毒监管检查规则"

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def audit_label(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> InspectionRules:
        rules = cls.objects.filter(pk=1).first()
        if rules is None:
            rules, _created = cls.objects.get_or_create(pk=1)
        return rules


# ------------------------------------------------------------------ key venues


class Venue(ScopedModel):
    """A key venue (重点场所). ``org_unit`` is the township, village or grid it lies in."""

    name = models.CharField("场所名称", max_length=100)
    kind = models.CharField("场所类别", max_length=30)  # code list "venue_kind"
    address = models.CharField("经营地址", max_length=200)
    operator_name = models.CharField("经营业主/负责人", max_length=50)
    operator_phone = EncryptedTextField("业主联系电话")
    licence_number = models.CharField("营业执照/许可证号", max_length=60, blank=True)
    # The department that regulates this kind of venue (公安 for hotels, 文旅 for
    # internet cafes …); a department's reporter sees only its own venues.
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="监管部门",
    )
    registered_on = models.DateField("登记日期")
    closed_on = models.DateField("停业日期", null=True, blank=True)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    personal_data = True
    personal_fields = {"operator_phone": "phone"}
    scope_department_field = "department"

    class Meta:
        ordering = ["org_path", "name", "id"]
        verbose_name = "重点场所"
        indexes = [path_index("inspections_venue")]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"重点场所 {self.name}"


class ResponsibilityLetter(ScopedModel):
    """A signed drug-control responsibility letter (禁毒责任书) with the venue's owner."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="letters")
    signed_on = models.DateField("签订日期")
    term_end = models.DateField("责任期限至")
    signed_by = models.CharField("签订人（业主方）", max_length=50, blank=True)
    scan = models.FileField(
        "责任书扫描件",
        storage=private_storage,
        upload_to=scan_upload_to,
        max_length=200,
        blank=True,
    )
    scan_type = models.CharField("扫描件类型", max_length=30, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "venue__department"

    class Meta:
        ordering = ["-signed_on", "-id"]
        verbose_name = "禁毒责任书"
        indexes = [
            path_index("inspections_letter"),
            models.Index(fields=["venue", "signed_on"], name="inspections_letter_venue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gte=F("signed_on")), name="letter_term_after_signing"
            )
        ]

    def audit_label(self) -> str:
        return f"{self.venue_id}号场所 {self.signed_on:%Y-%m-%d} 责任书"


class VenueInspection(ScopedModel):
    """An open or covert inspection (明察暗访) and, when it failed, how it was fixed."""

    class Mode(models.TextChoices):
        OPEN = "open", "明察"
        COVERT = "covert", "暗访"

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField("检查日期")
    mode = models.CharField("检查方式", max_length=10, choices=Mode.choices)
    inspectors = models.CharField("检查人员", max_length=200)
    # {"<venue_check_item code>": {"ok": true|false, "problem": "…"}} for each item checked.
    results = models.JSONField("检查项目及结果", default=dict)
    # Decided by the results when recorded (an item failed), never by a date.
    passed = models.BooleanField("检查合格")
    fix_deadline = models.DateField("整改期限", null=True, blank=True)
    fixed_on = models.DateField("整改完成日期", null=True, blank=True)
    fix_note = models.CharField("整改情况", max_length=300, blank=True)
    # A later inspection that passed and so confirmed the fix (复查), if that is how it closed.
    fixed_by_inspection = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField("备注", blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "venue__department"

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = "场所检查"
        indexes = [
            path_index("inspections_venueinsp"),
            models.Index(fields=["venue", "inspected_on"], name="inspections_vinsp_venue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(passed=True) | Q(fix_deadline__isnull=False),
                name="venueinsp_failure_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(fixed_on__isnull=True) | Q(fixed_on__gte=F("inspected_on")),
                name="venueinsp_fixed_after_inspection",
            ),
        ]

    def audit_label(self) -> str:
        return f"{self.venue_id}号场所 {self.inspected_on:%Y-%m-%d} {self.get_mode_display()}"

    def failed_items(self) -> dict[str, str]:
        return {
            code: (result or {}).get("problem", "")
            for code, result in (self.results or {}).items()
            if not (result or {}).get("ok", True)
        }


# ------------------------------------------------------------------ courier outlets

# The three 100 % rules (三个百分之百): the speech fixes them, so they are columns.
COURIER_RULES = (
    ("real_name", "实名登记"),
    ("open_box", "开箱验视"),
    ("xray", "过X光机"),
)


class CourierOutlet(ScopedModel):
    """A courier outlet or logistics park (寄递渠道)."""

    name = models.CharField("网点名称", max_length=100)
    kind = models.CharField("类别", max_length=30)  # code list "courier_kind"
    company = models.CharField("所属企业/品牌", max_length=60)
    address = models.CharField("地址", max_length=200)
    contact_name = models.CharField("负责人", max_length=50, blank=True)
    contact_phone = EncryptedTextField("负责人电话")
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="监管部门",
    )
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    personal_data = True
    personal_fields = {"contact_phone": "phone"}
    scope_department_field = "department"

    class Meta:
        ordering = ["org_path", "name", "id"]
        verbose_name = "寄递网点"
        indexes = [path_index("inspections_outlet")]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"寄递网点 {self.name}"


class CourierInspection(ScopedModel):
    """A check of the three 100 % rules: for each, how many items were sampled and complied."""

    outlet = models.ForeignKey(CourierOutlet, on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField("检查日期")
    inspectors = models.CharField("检查人员", max_length=200)
    real_name_sampled = models.PositiveIntegerField("实名登记抽查件数", default=0)
    real_name_complied = models.PositiveIntegerField("实名登记合规件数", default=0)
    open_box_sampled = models.PositiveIntegerField("开箱验视抽查件数", default=0)
    open_box_complied = models.PositiveIntegerField("开箱验视合规件数", default=0)
    xray_sampled = models.PositiveIntegerField("过X光机抽查件数", default=0)
    xray_complied = models.PositiveIntegerField("过X光机合规件数", default=0)
    problems = models.TextField("发现问题", blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    scope_department_field = "outlet__department"

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = "寄递渠道检查"
        indexes = [
            path_index("inspections_courierinsp"),
            models.Index(fields=["outlet", "inspected_on"], name="inspections_cinsp_outlet"),
            models.Index(fields=["inspected_on"], name="inspections_cinsp_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{rule}_complied__lte": F(f"{rule}_sampled")}),
                name=f"courierinsp_{rule}_within_sample",
            )
            for rule, _label in COURIER_RULES
        ]

    def audit_label(self) -> str:
        return f"{self.outlet_id}号网点 {self.inspected_on:%Y-%m-%d} 检查"


# ------------------------------------------------------------------ cultivation patrols


class Patrol(ScopedModel):
    """A cultivation patrol (禁种铲毒踏查), or a check by a higher level that found plants.

    ``check_level`` empty: the township's own patrol, which counts towards the
    season's coverage. Otherwise a check by the city, province or state; a
    provincial or national check that found plants marks the township for the
    one-vote veto (``jindu.inspections.coverage.veto_townships``).
    """

    class CheckLevel(models.TextChoices):
        OWN = "", "本级踏查"
        CITY = "city", "市级核查"
        PROVINCIAL = "provincial", "省级核查"
        NATIONAL = "national", "国家级核查"

    patrolled_on = models.DateField("踏查日期")
    check_level = models.CharField(
        "踏查/核查层级", max_length=12, choices=CheckLevel.choices, default="", blank=True
    )
    land_kind = models.CharField("地类", max_length=30)  # code list "land_kind"
    place = models.CharField("踏查地点", max_length=200, blank=True)
    team = models.CharField("踏查人员", max_length=300)
    distance_km = models.DecimalField(
        "踏查里程（公里）", max_digits=7, decimal_places=2, null=True, blank=True
    )
    area_mu = models.DecimalField(
        "踏查面积（亩）", max_digits=9, decimal_places=1, null=True, blank=True
    )
    plants_found = models.PositiveIntegerField("发现毒品原植物（株）", default=0)
    plants_destroyed = models.PositiveIntegerField("铲除（株）", default=0)
    plant_species = models.JSONField("植物种类", default=list, blank=True)  # "illicit_plant"
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    notes = models.TextField("备注", blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["-patrolled_on", "-id"]
        verbose_name = "禁种铲毒踏查"
        indexes = [
            path_index("inspections_patrol"),
            models.Index(fields=["patrolled_on"], name="inspections_patrol_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(plants_destroyed__lte=F("plants_found")),
                name="patrol_destroyed_within_found",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="patrol_gps_point_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patrolled_on:%Y-%m-%d} {self.get_check_level_display()}"

    def audit_label(self) -> str:
        return f"{self.org_unit_id}号单位 {self}"


# ------------------------------------------------------------------ photos


class Photo(ScopedModel):
    """A photo of a venue inspection or a patrol, kept in the private folder."""

    venue_inspection = models.ForeignKey(
        VenueInspection, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    patrol = models.ForeignKey(
        Patrol, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    file = models.FileField(
        "照片", storage=private_storage, upload_to=photo_upload_to, max_length=200
    )
    content_type = models.CharField("格式", max_length=30)
    width = models.PositiveIntegerField("宽（像素）")
    height = models.PositiveIntegerField("高（像素）")
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "现场照片"
        indexes = [path_index("inspections_photo")]
        constraints = [
            models.CheckConstraint(
                condition=Q(venue_inspection__isnull=False, patrol__isnull=True)
                | Q(venue_inspection__isnull=True, patrol__isnull=False),
                name="photo_has_one_record",
            )
        ]

    def audit_label(self) -> str:
        return f"照片 #{self.pk}"
