"""The register of drug users and their community detox / rehab: people, measures,
follow-up (drug tests, visits, absences), help teams, transfers and outflow.

Every table carries the org path of the unit responsible when the row was
written, so that it can be partitioned or sharded by county without a schema
change. Statuses that dates decide (due, overdue, lost from control, abstinent
three years) are never stored: ``jindu.people.status`` computes them from the
dated facts kept here.
"""

from __future__ import annotations

from django.db import models

from jindu.core.fields import BlindIndexField, EncryptedTextField
from jindu.core.paths import OrgPathField, path_index
from jindu.core.scoping import ScopedModel


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Person(ScopedModel):
    """A registered drug user (吸毒人员). ``org_unit`` is the village or grid responsible."""

    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    id_number = EncryptedTextField("身份证号")
    id_index = BlindIndexField("身份证号索引", unique=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)  # code list "ethnicity"
    household_address = EncryptedTextField("户籍地")
    household_local = models.BooleanField("本县户籍", default=True)
    current_address = EncryptedTextField("现住址")
    phone = EncryptedTextField("联系电话")
    first_found_on = models.DateField("初次发现日期", null=True, blank=True)
    drug_types = models.JSONField("滥用毒品种类", default=list, blank=True)  # "drug_type" codes
    how_found = models.CharField("发现方式", max_length=30, blank=True)  # code list "how_found"
    occupation = models.CharField("职业", max_length=50, blank=True)
    employment = models.CharField("就业状况", max_length=30, blank=True)  # "employment_status"
    has_driving_licence = models.BooleanField("持有驾驶证", default=False)
    licence_reported_on = models.DateField("驾驶证报请注销日期", null=True, blank=True)
    sick_or_disabled = models.BooleanField("病残", default=False)
    poverty_by_drugs = models.BooleanField("因毒致贫/返贫", default=False)
    key_person = models.BooleanField("重点人员", default=False)
    key_person_reason = models.CharField("重点人员原因", max_length=200, blank=True)
    family_support = models.BooleanField("家庭支持", default=True)
    use_started_on = models.DateField("开始吸毒日期", null=True, blank=True)
    died_on = models.DateField("死亡日期", null=True, blank=True)
    moved_away_on = models.DateField("迁出本县日期", null=True, blank=True)
    notes = models.TextField("备注", blank=True)
    # Facts the services keep in step with the measures and follow-up below, so
    # that lists and dashboards need no aggregation over millions of events.
    last_contact_on = models.DateField("最近联系日期", null=True, blank=True, db_index=True)
    # The day since which the person has had no measure, no positive test and no
    # new finding: the start of abstinence. One date, so that it says no more than
    # needed about which of those ended it.
    clean_since = models.DateField("戒断起算日期", null=True, blank=True)
    # The latest measure, copied by the services whenever measures change, so that
    # a list can filter by status with no join; whether it is still running on a
    # given day is decided at query time from ``measure_until``.
    measure_kind = models.CharField("当前/最近措施", max_length=30, blank=True)
    measure_anchor = models.DateField("措施起算日期", null=True, blank=True)
    measure_until = models.DateField("措施截止日期", null=True, blank=True)
    # The latest measure's decision day while it is a community measure neither
    # reported in to nor ended: the report-in period runs from it. Few people carry
    # one, so the overdue filter reads a small index instead of the whole subtree.
    awaiting_report_since = models.DateField("待报到起算日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    personal_data = True
    personal_fields = {
        "id_number": "id_number",
        "phone": "phone",
        "household_address": "address",
        "current_address": "address",
    }

    class Meta:
        ordering = ["org_path", "id"]
        verbose_name = "吸毒人员"
        indexes = [
            path_index("people_person", keyset=True),
            models.Index(fields=["org_path", "id"], name="people_person_keyset"),
            models.Index(
                fields=["org_path", "id"],
                name="people_person_awaiting",
                condition=models.Q(awaiting_report_since__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"{self.name}（#{self.pk}）"


class Measure(ScopedModel):
    """A period under a measure: community detox, rehab, isolation, treatment, custody."""

    class Kind(models.TextChoices):
        COMMUNITY_DETOX = "community_detox", "社区戒毒"
        COMMUNITY_REHAB = "community_rehab", "社区康复"
        COMPULSORY_ISOLATION = "compulsory_isolation", "强制隔离戒毒"
        VOLUNTARY = "voluntary", "自愿戒毒"
        METHADONE = "methadone", "药物维持治疗"
        DETENTION = "detention", "拘留"
        PRISON = "prison", "服刑"
        OTHER = "other", "其他"

    class EndReason(models.TextChoices):
        COMPLETED = "completed", "期满解除"
        BREACHED = "breached", "严重违反协议转强制隔离"
        RELAPSED = "relapsed", "复吸转强制隔离"
        DIED = "died", "死亡"
        TRANSFERRED = "transferred", "转出本县执行"
        RELEASED = "released", "提前解除/释放"
        OTHER = "other", "其他"

    # Found through the (person, decision_date) index below; a second index on the
    # key alone would only cost every insert.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="measures", db_index=False
    )
    kind = models.CharField("措施种类", max_length=30, choices=Kind.choices)
    decision_date = models.DateField("决定日期")
    authority = models.CharField("决定机关", max_length=100, blank=True)
    report_in_date = models.DateField("报到日期", null=True, blank=True)
    start_date = models.DateField("开始日期", null=True, blank=True)
    term_months = models.PositiveSmallIntegerField("期限（月）", null=True, blank=True)
    # start (or report-in) + term: known when the measure is recorded.
    planned_end = models.DateField("期满日期", null=True, blank=True)
    ended_on = models.DateField("实际结束日期", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=20, choices=EndReason.choices, blank=True)
    # Counts of evaded and refused tests in this measure, kept by the services for
    # the serious-breach rule (the results themselves stay encrypted).
    evaded_count = models.PositiveSmallIntegerField("逃避检测次数", default=0)
    refused_count = models.PositiveSmallIntegerField("拒绝检测次数", default=0)
    notes = models.TextField("备注", blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    personal_data = True

    class Meta:
        ordering = ["person", "decision_date", "id"]
        verbose_name = "戒毒措施"
        indexes = [
            path_index("people_measure"),
            models.Index(fields=["person", "decision_date"], name="people_measure_person"),
            models.Index(fields=["kind", "ended_on"], name="people_measure_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.decision_date:%Y-%m-%d}）"

    def audit_label(self) -> str:
        return f"{self.person_id}号人员 {self}"


class DrugTest(ScopedModel):
    class Method(models.TextChoices):
        URINE = "urine", "尿检"
        HAIR = "hair", "毛发检测"
        BLOOD = "blood", "血检"
        SALIVA = "saliva", "唾液检测"

    class Result(models.TextChoices):
        NEGATIVE = "negative", "阴性"
        POSITIVE = "positive", "阳性"
        REFUSED = "refused", "拒绝检测"
        EVADED = "evaded", "逃避检测"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tests")
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="tests"
    )
    tested_on = models.DateField("检测日期")
    method = models.CharField("检测方式", max_length=10, choices=Method.choices)
    # Test results are personal data of the most sensitive kind: encrypted at rest.
    result = EncryptedTextField("检测结果")
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    personal_data = True
    personal_fields = {"result": "generic"}

    class Meta:
        ordering = ["-tested_on", "-id"]
        verbose_name = "尿检记录"
        indexes = [
            path_index("people_drugtest"),
            models.Index(fields=["person", "tested_on"], name="people_test_person"),
        ]

    def audit_label(self) -> str:
        return f"{self.person_id}号人员 {self.tested_on:%Y-%m-%d} 检测"


class Visit(ScopedModel):
    """A talk, a home visit or help given (work, welfare, training, treatment)."""

    class Kind(models.TextChoices):
        TALK = "talk", "谈话教育"
        HOME_VISIT = "home_visit", "家访"
        HELP = "help", "帮扶救助"
        SUMMARY = "summary", "半年小结"
        ASSESSMENT = "assessment", "年度评估"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="visits")
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    visited_on = models.DateField("日期")
    help_kind = models.CharField("帮扶类型", max_length=30, blank=True)  # code list "help_kind"
    summary = EncryptedTextField("情况记录")
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    personal_data = True
    personal_fields = {"summary": "generic"}

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = "走访帮扶记录"
        indexes = [
            path_index("people_visit"),
            models.Index(fields=["person", "visited_on"], name="people_visit_person"),
        ]

    def audit_label(self) -> str:
        return f"{self.person_id}号人员 {self.visited_on:%Y-%m-%d} {self.get_kind_display()}"


class Absence(ScopedModel):
    """Time away from the county: with leave, or without notice (absconding, 脱管)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="absences")
    measure = models.ForeignKey(
        Measure, on_delete=models.SET_NULL, null=True, blank=True, related_name="absences"
    )
    left_on = models.DateField("离开日期")
    returned_on = models.DateField("返回日期", null=True, blank=True)
    authorised = models.BooleanField("已请假", default=False)
    destination = EncryptedTextField("去向")
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    personal_data = True
    personal_fields = {"destination": "address"}

    class Meta:
        ordering = ["-left_on", "-id"]
        verbose_name = "外出记录"
        indexes = [path_index("people_absence")]


class TeamMember(ScopedModel):
    """A member of a person's "4+X" help team (帮教小组)."""

    class Role(models.TextChoices):
        TOWNSHIP_CADRE = "township_cadre", "乡镇（街道）干部"
        COMMUNITY_POLICE = "community_police", "社区民警"
        COMMUNITY_DOCTOR = "community_doctor", "社区医生"
        FAMILY_MEMBER = "family_member", "家庭成员"
        SOCIAL_WORKER = "social_worker", "禁毒社工"
        GRID_WORKER = "grid_worker", "网格员"
        VOLUNTEER = "volunteer", "志愿者"
        EMPLOYER = "employer", "用人单位"
        OTHER = "other", "其他"

    REQUIRED = (
        Role.TOWNSHIP_CADRE,
        Role.COMMUNITY_POLICE,
        Role.COMMUNITY_DOCTOR,
        Role.FAMILY_MEMBER,
    )

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="team")
    role = models.CharField("组内角色", max_length=20, choices=Role.choices)
    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="平台账号",
    )
    name = models.CharField("姓名", max_length=50)
    phone = EncryptedTextField("联系电话")
    joined_on = models.DateField("加入日期", null=True, blank=True)
    left_on = models.DateField("退出日期", null=True, blank=True)

    personal_data = True
    personal_fields = {"phone": "phone"}

    class Meta:
        ordering = ["person", "role", "id"]
        verbose_name = "帮教小组成员"
        indexes = [
            path_index("people_teammember"),
            models.Index(fields=["user", "left_on"], name="people_team_user"),
        ]


class Transfer(models.Model):
    """A hand-over of a person to another responsible unit; both sides see it."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="transfers")
    from_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    from_path = OrgPathField("转出单位路径")
    to_path = OrgPathField("转入单位路径")
    transferred_on = models.DateField("移交日期")
    reason = models.CharField("原因", max_length=200, blank=True)
    by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        ordering = ["-transferred_on", "-id"]
        verbose_name = "人员移交"
        indexes = [
            path_index("people_transfer", "from_path"),
            path_index("people_transfer", "to_path"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}号人员 {self.transferred_on:%Y-%m-%d} 移交"


class Responsibility(models.Model):
    """Which unit was responsible for a person from when to when.

    The one rule for statistics: a person counts for the unit responsible on the
    date in question (``valid_from <= date < valid_to``).
    """

    # Found through the (person, valid_from) index below, as for measures.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="responsibilities", db_index=False
    )
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    org_path = OrgPathField("单位路径")
    valid_from = models.DateField("起")
    valid_to = models.DateField("止", null=True, blank=True)

    class Meta:
        ordering = ["person", "valid_from"]
        indexes = [
            path_index("people_responsibility"),
            models.Index(fields=["person", "valid_from"], name="people_resp_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}号人员 {self.valid_from:%Y-%m-%d}起由{self.org_unit_id}号单位负责"


class Outflow(ScopedModel):
    """A local found using or trafficking in another county (外流吸毒/贩毒)."""

    class Kind(models.TextChoices):
        USING = "using", "外流吸毒"
        TRAFFICKING = "trafficking", "外流贩毒"

    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="outflows"
    )
    name = models.CharField("姓名", max_length=50)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    caught_on = models.DateField("查获日期")
    place = models.CharField("查获地", max_length=100)
    caught_by = models.CharField("查获机关", max_length=100, blank=True)
    notes = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    personal_data = True

    class Meta:
        ordering = ["-caught_on", "-id"]
        verbose_name = "外流人员"
        indexes = [path_index("people_outflow")]


class FollowUpPolicy(models.Model):
    """The local rules of community detox and rehab, one row, kept by the county office.

    Provinces differ; the defaults are the common local rule (DOMAIN.md).
    """

    report_in_days = models.PositiveSmallIntegerField("决定后报到期限（天）", default=15)
    detox_term_months = models.PositiveSmallIntegerField("社区戒毒期限（月）", default=36)
    rehab_max_months = models.PositiveSmallIntegerField("社区康复最长期限（月）", default=36)
    isolation_term_months = models.PositiveSmallIntegerField("强制隔离戒毒期限（月）", default=24)
    # Months between tests in year 1, 2, 3 … of a measure; the last applies after.
    test_intervals = models.JSONField("各年度检测间隔（月）", default=list)
    summary_every_months = models.PositiveSmallIntegerField("小结间隔（月）", default=6)
    assessment_every_months = models.PositiveSmallIntegerField("评估间隔（月）", default=12)
    lost_contact_days = models.PositiveSmallIntegerField("失联判定天数", default=60)
    breach_evaded = models.PositiveSmallIntegerField("逃避检测次数上限", default=3)
    breach_refused = models.PositiveSmallIntegerField("拒绝检测次数上限", default=3)
    breach_departures = models.PositiveSmallIntegerField("擅自离开次数上限", default=3)
    breach_days_away = models.PositiveSmallIntegerField("累计离开天数上限", default=30)
    abstinence_years = models.PositiveSmallIntegerField("戒断巩固年限", default=3)
    # Risk score weights by factor key; see ``jindu.people.risk``.
    risk_weights = models.JSONField("风险评分权重", default=dict, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "社区戒毒康复规则"

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> FollowUpPolicy:
        policy = cls.objects.filter(pk=1).first()
        if policy is None:
            policy, _created = cls.objects.get_or_create(
                pk=1, defaults={"test_intervals": [1, 2, 3]}
            )
        return policy

    def interval_in_year(self, year_index: int) -> int:
        intervals = self.test_intervals or [1, 2, 3]
        return int(intervals[min(year_index, len(intervals) - 1)])
