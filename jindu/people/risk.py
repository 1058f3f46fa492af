"""An explainable risk score for a person, and the grade it gives (high, medium, low).

Every point comes from a named factor with a Chinese explanation, so that a
worker sees why someone is high risk, not only that they are:

- drug type: heroin; synthetic drugs (the ``drug_type`` code list's
  ``extra.synthetic``); other traditional drugs;
- years of use, from ``use_started_on`` (or the first finding);
- relapses: positive tests;
- breaches: evaded and refused tests, departures without leave;
- no work (``employment`` among ``unemployed_codes``, or a code whose
  ``employment_status`` entry says ``extra.unemployed``);
- no family support;
- recent tests: a positive, or an evaded or refused test, in the last
  ``recent_months`` months.

The weights and the grade thresholds are configuration: defaults in
``data/risk.json``, any of whose keys ``FollowUpPolicy.risk_weights`` may
override. A count factor gives ``*_each`` points per occurrence, at most
``*_max``. ``grade_high`` and ``grade_medium`` are the lowest totals of each grade.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.db import models
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jindu.codes.models import CodeItem
from jindu.people.dates import add_months
from jindu.people.models import Absence, DrugTest, FollowUpPolicy, Person

DEFAULTS_FILE = Path(__file__).resolve().parent / "data" / "risk.json"
HEROIN = "heroin"


class Grade(models.TextChoices):
    HIGH = "high", gettext_lazy("高风险")
    MEDIUM = "medium", gettext_lazy("中风险")
    LOW = "low", gettext_lazy("低风险")


@dataclass(frozen=True)
class Factor:
    key: str
    points: float
    explanation: str


@dataclass(frozen=True)
class Risk:
    total: float
    grade: Grade
    factors: list[Factor] = field(default_factory=list)

    @property
    def grade_label(self) -> str:
        return str(self.grade.label)

    def points_of(self, key: str) -> float:
        return sum(f.points for f in self.factors if f.key == key)


@cache
def default_weights() -> dict[str, Any]:
    with DEFAULTS_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def weight_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with each key of a weights dict (for the policy's own form)."""
    defaults = default_weights()
    errors = {}
    for key, value in values.items():
        if key not in defaults:
            errors[key] = _("未知的权重项“%(key)s”") % {"key": key}
        elif key == "unemployed_codes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors[key] = _("无业状况代码须为文字列表")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            errors[key] = _("“%(key)s”须为不小于0的数字") % {"key": key}
        elif key == "recent_months" and value < 1:
            errors[key] = _("近期检测的月数至少为1")
    return errors


def weights(policy: FollowUpPolicy | None = None) -> dict[str, Any]:
    """The defaults with the policy's valid overrides; a bad override keeps the default."""
    result = dict(default_weights())
    overrides = dict((policy.risk_weights if policy else None) or {})
    bad = weight_errors(overrides)
    result.update({k: v for k, v in overrides.items() if k not in bad})
    if result["grade_high"] <= result["grade_medium"]:
        result["grade_high"] = default_weights()["grade_high"]
        result["grade_medium"] = default_weights()["grade_medium"]
    return result


def _fmt(points: float) -> float:
    return int(points) if float(points).is_integer() else round(points, 1)


def _capped(count: int, each: float, most: float) -> float:
    return _fmt(min(count * each, most))


def grade_of(total: float, w: Mapping[str, Any]) -> Grade:
    if total >= w["grade_high"]:
        return Grade.HIGH
    if total >= w["grade_medium"]:
        return Grade.MEDIUM
    return Grade.LOW


@dataclass
class _Codes:
    drug: dict[str, tuple[str, bool | None]]  # code: (label, synthetic)
    employment: dict[str, tuple[str, bool]]  # code: (label, unemployed)


def _codes() -> _Codes:
    drug: dict[str, tuple[str, bool | None]] = {}
    employment: dict[str, tuple[str, bool]] = {}
    rows = CodeItem.objects.filter(
        code_list__key__in=("drug_type", "employment_status")
    ).values_list("code_list__key", "code", "label", "extra")
    for key, code, label, extra in rows:
        extra = extra or {}
        if key == "drug_type":
            drug[code] = (label, extra.get("synthetic"))
        else:
            employment[code] = (label, bool(extra.get("unemployed")))
    return _Codes(drug, employment)


def _drug_factors(person: Person, w: Mapping[str, Any], codes: _Codes) -> list[Factor]:
    used = [c for c in (person.drug_types or []) if c in codes.drug]
    factors = []
    if HEROIN in used:
        factors.append(
            Factor("drug_heroin", _fmt(w["drug_heroin"]), _("使用海洛因（成瘾性强、复吸率高）"))
        )
    synthetic = [codes.drug[c][0] for c in used if codes.drug[c][1] is True]
    if synthetic:
        factors.append(
            Factor(
                "drug_synthetic",
                _fmt(w["drug_synthetic"]),
                _("使用合成毒品：%(drugs)s") % {"drugs": "、".join(synthetic)},
            )
        )
    traditional = [codes.drug[c][0] for c in used if codes.drug[c][1] is False and c != HEROIN]
    if traditional and HEROIN not in used:
        factors.append(
            Factor(
                "drug_traditional",
                _fmt(w["drug_traditional"]),
                _("使用传统毒品：%(drugs)s") % {"drugs": "、".join(traditional)},
            )
        )
    return [f for f in factors if f.points]


def _full_years(start: date, today: date) -> int:
    years = today.year - start.year - ((today.month, today.day) < (start.month, start.day))
    return max(years, 0)


def _score(
    person: Person,
    *,
    today: date,
    w: Mapping[str, Any],
    codes: _Codes,
    tests: list[DrugTest],
    departures: int,
) -> Risk:
    factors = _drug_factors(person, w, codes)
    started = person.use_started_on or person.first_found_on
    if started and started <= today:
        years = _full_years(started, today)
        if years:
            since = _("开始吸毒") if person.use_started_on else _("初次发现")
            factors.append(
                Factor(
                    "years_of_use",
                    _capped(years, w["years_of_use_each"], w["years_of_use_max"]),
                    _("吸毒史%(years)d年（%(year)d年%(since)s）")
                    % {"years": years, "year": started.year, "since": since},
                )
            )
    tests = [t for t in tests if t.tested_on <= today]
    positives = sorted(t.tested_on for t in tests if t.result == DrugTest.Result.POSITIVE)
    if positives:
        factors.append(
            Factor(
                "relapse",
                _capped(len(positives), w["relapse_each"], w["relapse_max"]),
                _("检测阳性%(n)d次（复吸）") % {"n": len(positives)},
            )
        )
    evaded = [t.tested_on for t in tests if t.result == DrugTest.Result.EVADED]
    refused = [t.tested_on for t in tests if t.result == DrugTest.Result.REFUSED]
    breaches = len(evaded) + len(refused) + departures
    if breaches:
        parts = [
            template % {"n": n}
            for template, n in (
                (_("逃避检测%(n)d次"), len(evaded)),
                (_("拒绝检测%(n)d次"), len(refused)),
                (_("擅自离开%(n)d次"), departures),
            )
            if n
        ]
        factors.append(
            Factor("breach", _capped(breaches, w["breach_each"], w["breach_max"]), "、".join(parts))
        )
    code = person.employment
    label, unemployed = codes.employment.get(code, (code, False))
    if code and (unemployed or code in w["unemployed_codes"]):
        factors.append(
            Factor(
                "unemployed",
                _fmt(w["unemployed"]),
                _("无稳定就业（%(status)s）") % {"status": label},
            )
        )
    if not person.family_support:
        factors.append(Factor("no_family_support", _fmt(w["no_family_support"]), _("缺少家庭支持")))
    months = int(w["recent_months"])
    window = add_months(today, -months)
    recent_positive = [d for d in positives if d > window]
    if recent_positive:
        factors.append(
            Factor(
                "recent_positive",
                _fmt(w["recent_positive"]),
                _("近%(months)d个月内检测阳性（最近一次%(day)s）")
                % {"months": months, "day": f"{recent_positive[-1]:%Y-%m-%d}"},
            )
        )
    recent_missed = sorted(d for d in [*evaded, *refused] if d > window)
    if recent_missed:
        factors.append(
            Factor(
                "recent_evaded",
                _fmt(w["recent_evaded"]),
                _("近%(months)d个月内逃避或拒绝检测%(n)d次")
                % {"months": months, "n": len(recent_missed)},
            )
        )
    factors = [f for f in factors if f.points]
    total = _fmt(sum(f.points for f in factors))
    return Risk(total=total, grade=grade_of(total, w), factors=factors)


def bulk_risk(people: Iterable[Person], today: date) -> dict[int, Risk]:
    """Risk for a page of people in a fixed number of queries, whatever the page size."""
    people = list(people)
    if not people:
        return {}
    w = weights(FollowUpPolicy.current())
    codes = _codes()
    ids = [p.pk for p in people]
    tests: dict[int, list[DrugTest]] = {}
    for test in DrugTest.objects.filter(person_id__in=ids).only("person_id", "tested_on", "result"):
        tests.setdefault(test.person_id, []).append(test)
    departures = dict(
        Absence.objects.filter(person_id__in=ids, authorised=False, left_on__lte=today)
        .values("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    return {
        p.pk: _score(
            p,
            today=today,
            w=w,
            codes=codes,
            tests=tests.get(p.pk, []),
            departures=departures.get(p.pk, 0),
        )
        for p in people
    }


def score(person: Person, today: date) -> Risk:
    """The risk of one person on ``today``: total, grade and the factors behind it."""
    return bulk_risk([person], today)[person.pk]
