"""Deny by default: every URL declares an access rule, and every persona is walked over every URL.

For each URL in the URLconf and each persona (anonymous included) the walk asks
the page with GET, and for every refused persona with POST too, and fails if:
- a view declares no access rule;
- anonymous reaches a non-public page (anything but a redirect to the login page);
- a persona without the capability is not refused (403);
- any answer shows the names of units outside the persona's subtree;
- any answer is a server error.

Parametrised URLs are filled with objects of 乙镇 (township B), outside the
subtree of the 甲镇 personas, so those personas must get 404 for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from jindu.core.access import AccessRule, rule_of
from jindu.core.roles import has_perm
from tests.helpers import sign_in
from tests.personas import PERSONAS, Personas

# Names that only 乙镇's subtree carries, and the township-B cadre's own name.
B_SENTINELS = ("乙镇", "乙一村", "乙镇专干", "钱乙乙")
# Personas whose subtree excludes 乙镇.
OUTSIDE_B = {"cadre_a", "grid_worker", "police_officer"}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    rule: AccessRule | None
    params: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
            yield Route(
                name=name,
                pattern=prefix + str(entry.pattern),
                rule=rule_of(entry.callback),
                params=tuple(entry.pattern.regex.groupindex),
            )


ROUTES = list(_walk(get_resolver().url_patterns))


def _b_user(p: Personas) -> dict[str, Any]:
    return {"pk": p.cadre_b.pk}


def _b_unit(p: Personas) -> dict[str, Any]:
    return {"pk": p.territory.township_b.pk}


def _b_session(p: Personas) -> dict[str, Any]:
    from jindu.accounts.models import UserSession

    session = UserSession.objects.create(
        session_key="walk-session-of-cadre-b", user=p.cadre_b, client_address="10.0.0.2"
    )
    return {"pk": session.pk}


def _b_notification(p: Personas) -> dict[str, Any]:
    from jindu.notifications.services import notify

    (note,) = notify(recipients=[p.cadre_b], title="乙镇专干的提醒")
    return {"pk": note.pk}


def _department(p: Personas) -> dict[str, Any]:
    return {"pk": p.territory.education_dept.pk}


def _token(p: Personas) -> dict[str, Any]:
    return {"token": "0" * 32}


def _code_list(p: Personas) -> dict[str, Any]:
    return {"key": "drug_type"}


def _code_item(p: Personas) -> dict[str, Any]:
    return {"key": "drug_type", "code": "heroin"}


def _b_person_obj(p: Personas) -> Any:
    """A registered person of 乙一村 under community detox (made once per test)."""
    from datetime import date, timedelta

    from django.utils import timezone

    from jindu.people import services
    from jindu.people.models import Person
    from tests.people_factories import make_id_number, make_person

    person = Person.objects.filter(name="钱乙乙").first()
    if person is None:
        person = make_person(
            p.cadre_b,
            p.territory.village_b,
            name="钱乙乙",
            id_number=make_id_number(date(1988, 8, 8), 71),
            phone="13900001111",
        )
        decided = timezone.localdate() - timedelta(days=10)
        services.add_measure(
            actor=p.cadre_b,
            person=person,
            kind="community_detox",
            decision_date=decided,
            report_in_date=decided,
        )
    return person


def _b_person(p: Personas) -> dict[str, Any]:
    return {"pk": _b_person_obj(p).pk}


def _b_person_field(p: Personas) -> dict[str, Any]:
    return {"pk": _b_person_obj(p).pk, "field": "phone"}


def _b_measure(p: Personas) -> dict[str, Any]:
    person = _b_person_obj(p)
    return {"pk": person.pk, "mpk": person.measures.values_list("pk", flat=True).first()}


def _b_team_member(p: Personas) -> dict[str, Any]:
    from jindu.people import teams

    person = _b_person_obj(p)
    member = person.team.first() or teams.add_team_member(
        actor=p.cadre_b,
        person=person,
        role="family_member",
        name="钱乙乙家属",
        phone="13900002222",
    )
    return {"pk": member.pk}


def _b_absence(p: Personas) -> dict[str, Any]:
    from django.utils import timezone

    from jindu.people import followup

    person = _b_person_obj(p)
    absence = person.absences.first() or followup.record_absence(
        actor=p.cadre_b, person=person, left_on=timezone.localdate(), authorised=True
    )
    return {"pk": absence.pk}


def _b_test(p: Personas) -> dict[str, Any]:
    from django.utils import timezone

    from jindu.people import followup

    person = _b_person_obj(p)
    test = person.tests.first() or followup.record_test(
        actor=p.cadre_b,
        person=person,
        tested_on=timezone.localdate(),
        method="urine",
        result="negative",
    )
    return {"pk": test.pk}


def _b_visit(p: Personas) -> dict[str, Any]:
    from django.utils import timezone

    from jindu.people import followup

    person = _b_person_obj(p)
    visit = person.visits.first() or followup.record_visit(
        actor=p.cadre_b, person=person, kind="talk", visited_on=timezone.localdate()
    )
    return {"pk": visit.pk}


def _audit_row(p: Personas) -> dict[str, Any]:
    from jindu.audit.models import AuditEvent

    return {"seq": AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first()}


def _b_venue_obj(p: Personas) -> Any:
    """A hotel of 乙一村 with a letter (and its scan), a failed inspection and a photo."""
    from jindu.inspections.images import check_scan
    from jindu.inspections.models import Venue
    from jindu.inspections.services import sign_letter
    from tests.inspections_factories import days_ago, inspect, make_venue, photo, upload

    venue = Venue.objects.filter(name="乙镇宾馆").first()
    if venue is None:
        venue = make_venue(p.cadre_b, p.territory.village_b, name="乙镇宾馆")
        scan = check_scan(upload("责任书.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))
        sign_letter(
            actor=p.cadre_b, venue=venue, signed_on=days_ago(30), term_end=days_ago(-300), scan=scan
        )
        inspect(p.cadre_b, venue, days_ago(5), failed=("publicity",), photos=(photo(),))
    return venue


def _b_venue(p: Personas) -> dict[str, Any]:
    return {"pk": _b_venue_obj(p).pk}


def _b_venue_inspection(p: Personas) -> dict[str, Any]:
    return {"pk": _b_venue_obj(p).inspections.values_list("pk", flat=True).first()}


def _b_letter(p: Personas) -> dict[str, Any]:
    return {"pk": _b_venue_obj(p).letters.values_list("pk", flat=True).first()}


def _b_photo(p: Personas) -> dict[str, Any]:
    from jindu.inspections.models import Photo

    _b_venue_obj(p)
    return {"pk": Photo.objects.filter(org_path__startswith=p.territory.township_b.path).first().pk}


def _b_outlet(p: Personas) -> dict[str, Any]:
    from jindu.inspections.models import CourierOutlet
    from tests.inspections_factories import courier_check, days_ago, make_outlet

    outlet = CourierOutlet.objects.filter(name="乙镇快递点").first()
    if outlet is None:
        outlet = make_outlet(p.cadre_b, p.territory.village_b, name="乙镇快递点")
        courier_check(p.cadre_b, outlet, days_ago(3), real_name=(10, 9))
    return {"pk": outlet.pk}


def _b_patrol(p: Personas) -> dict[str, Any]:
    from jindu.inspections.models import Patrol
    from tests.inspections_factories import days_ago, make_patrol

    patrol = Patrol.objects.filter(org_path__startswith=p.territory.township_b.path).first()
    if patrol is None:
        patrol = make_patrol(p.cadre_b, p.territory.village_b, days_ago(2), team="乙镇踏查组")
    return {"pk": patrol.pk}


def _b_regulated_unit_obj(p: Personas) -> Any:
    """A precursor trader of 乙一村 with a contact, a ledger with a shortage and a late
    sale (so findings), and a campaign of 乙镇 listing it."""
    from datetime import timedelta

    from django.utils import timezone

    from jindu.core.indicators import Period
    from jindu.regulation import campaigns, reconcile, services
    from jindu.regulation.models import RegulatedUnit
    from jindu.regulation.selectors import UnitFilter
    from tests.test_regulation_factories import days_ago, line, make_unit

    unit = RegulatedUnit.objects.filter(name="乙镇化工经营部").first()
    if unit is None:
        unit = make_unit(
            p.cadre_b, p.territory.village_b, p.territory.police_dept, name="乙镇化工经营部"
        )
        services.add_contact(actor=p.cadre_b, unit=unit, name="乙镇联系人", phone="13900003333")
        line(p.cadre_b, unit, "丙酮", "opening", days_ago(60), 100)
        line(p.cadre_b, unit, "丙酮", "sale", days_ago(50), 10)
        line(p.cadre_b, unit, "丙酮", "count", days_ago(40), 80)
        today = timezone.localdate()
        reconcile.run(
            actor=p.cadre_b,
            units=RegulatedUnit.objects.for_user(p.cadre_b),
            period=Period.between(today - timedelta(days=90), today),
        )
        campaigns.create_campaign(
            actor=p.cadre_b,
            name="乙镇易制毒专项检查",
            starts_on=days_ago(10),
            ends_on=today + timedelta(days=10),
            filters=UnitFilter(),
        )
    return unit


def _b_regulated_unit(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).pk}


def _b_licence(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).licences.values_list("pk", flat=True).first()}


def _b_allowance(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).allowances.values_list("pk", flat=True).first()}


def _b_contact(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).contacts.values_list("pk", flat=True).first()}


def _b_ledger_entry(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).entries.values_list("pk", flat=True).first()}


def _b_finding(p: Personas) -> dict[str, Any]:
    return {"pk": _b_regulated_unit_obj(p).findings.values_list("pk", flat=True).first()}


def _b_campaign_target(p: Personas) -> dict[str, Any]:
    from jindu.regulation.models import CampaignTarget

    unit = _b_regulated_unit_obj(p)
    return {"pk": CampaignTarget.objects.filter(unit=unit).values_list("pk", flat=True).first()}


def _b_campaign(p: Personas) -> dict[str, Any]:
    from jindu.regulation.models import CampaignTarget

    unit = _b_regulated_unit_obj(p)
    target = CampaignTarget.objects.filter(unit=unit).first()
    return {"pk": target.campaign_id}


def _substance(p: Personas) -> dict[str, Any]:
    from jindu.regulation.models import Substance

    return {"pk": Substance.objects.get(code="P3-02").pk}


def _b_case_obj(p: Personas) -> Any:
    """A solved case of 乙一村 with a suspect, a seizure and a confiscated asset."""
    from jindu.enforcement import services
    from jindu.enforcement.models import Case
    from tests.test_enforcement_factories import add_suspect, d, make_case, seize

    case = Case.objects.filter(number="乙镇禁立001").first()
    if case is None:
        police = p.territory.police_dept
        case = make_case(
            p.cadre_b,
            p.territory.village_b,
            police,
            number="乙镇禁立001",
            solved_on=d("2023-03-10"),
        )
        add_suspect(p.cadre_b, case, name="乙镇嫌疑人")
        seize(p.cadre_b, "heroin", "1.5", d("2023-03-10"), case=case)
        services.record_asset(
            actor=p.cadre_b, case=case, confiscated_on=d("2023-03-10"), kind="cash", amount="800"
        )
    return case


def _b_case(p: Personas) -> dict[str, Any]:
    return {"pk": _b_case_obj(p).pk}


def _b_suspect(p: Personas) -> dict[str, Any]:
    return {"pk": _b_case_obj(p).suspects.values_list("pk", flat=True).first()}


def _b_seizure(p: Personas) -> dict[str, Any]:
    return {"pk": _b_case_obj(p).seizures.values_list("pk", flat=True).first()}


def _b_asset(p: Personas) -> dict[str, Any]:
    return {"pk": _b_case_obj(p).assets.values_list("pk", flat=True).first()}


def _b_user_caught(p: Personas) -> dict[str, Any]:
    from jindu.enforcement.models import UserCaught
    from tests.test_enforcement_factories import catch, d

    caught = UserCaught.objects.filter(org_path__startswith=p.territory.township_b.path).first()
    if caught is None:
        caught = catch(
            p.cadre_b,
            p.territory.village_b,
            p.territory.police_dept,
            d("2023-05-05"),
            name="乙镇吸毒人员",
        )
    return {"pk": caught.pk}


def _b_driving_test(p: Personas) -> dict[str, Any]:
    from jindu.enforcement.models import DrugDrivingTest
    from tests.test_enforcement_factories import d, driving

    test = DrugDrivingTest.objects.filter(org_path__startswith=p.territory.township_b.path).first()
    if test is None:
        test = driving(
            p.cadre_b,
            p.territory.village_b,
            p.territory.police_dept,
            d("2023-05-05"),
            name="乙镇驾驶人",
        )
    return {"pk": test.pk}


def _target(p: Personas) -> dict[str, Any]:
    """A county target (the county's own, so not a 乙镇 object) with a 乙镇 share."""
    from django.utils import timezone

    from jindu.targets import services

    target = services.set_target(
        actor=p.county_officer,
        county=p.territory.county,
        year=timezone.localdate().year,
        key="new_users_found",
        value="6",
    )
    services.set_share(actor=p.county_officer, target=target, unit=p.territory.township_b, value=2)
    return {"pk": target.pk}


def _b_reported(p: Personas) -> dict[str, Any]:
    """乙镇's awareness rate of this year, submitted."""
    from django.utils import timezone

    from jindu.targets import reporting
    from jindu.targets.models import ReportedValue

    row = ReportedValue.objects.filter(org_unit=p.territory.township_b).first()
    if row is None:
        row = reporting.save_reported_value(
            actor=p.cadre_b,
            key="awareness_rate",
            unit=p.territory.township_b,
            year=timezone.localdate().year,
            value="91.5",
            submit=True,
        )
    return {"pk": row.pk}


def _b_letter_obj(p: Personas) -> Any:
    """乙镇's responsibility letter of this year, issued and signed with a scan."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from jindu.targets import letters
    from jindu.targets.models import ResponsibilityLetter

    letter = ResponsibilityLetter.objects.filter(org_unit=p.territory.township_b).first()
    if letter is None:
        today = timezone.localdate()
        letter = letters.draft_letter(
            actor=p.county_officer, year=today.year, unit=p.territory.township_b
        )
        letter = letters.issue_letter(actor=p.county_officer, letter=letter, issued_on=today)
        scan = SimpleUploadedFile("签字.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        letter = letters.sign_letter(
            actor=p.county_officer, letter=letter, signed_on=today, scan=scan
        )
    return letter


def _b_township_letter(p: Personas) -> dict[str, Any]:
    return {"pk": _b_letter_obj(p).pk}


def _b_key_township_obj(p: Personas) -> Any:
    """乙镇 listed for focused remediation, with one task."""
    from datetime import timedelta

    from django.utils import timezone

    from jindu.targets import letters
    from jindu.targets.models import KeyTownship

    key = KeyTownship.objects.filter(org_unit=p.territory.township_b).first()
    if key is None:
        today = timezone.localdate()
        key = letters.list_key_township(
            actor=p.county_officer,
            township=p.territory.township_b,
            listed_on=today - timedelta(days=30),
            listed_by="市禁毒委",
        )
        letters.add_task(
            actor=p.county_officer,
            key=key,
            task="乙镇排查出租屋",
            deadline=today + timedelta(days=30),
        )
    return key


def _b_key_township(p: Personas) -> dict[str, Any]:
    return {"pk": _b_key_township_obj(p).pk}


def _b_task(p: Personas) -> dict[str, Any]:
    return {"pk": _b_key_township_obj(p).tasks.values_list("pk", flat=True).first()}


# How to fill each parametrised URL. A new parametrised URL without an entry here
# fails the walk: the deny-by-default rule holds for the tests too.
SAMPLES: dict[str, Callable[[Personas], dict[str, Any]]] = {
    "accounts:session_end": _b_session,
    "accounts:role_edit": _b_user,
    "accounts:role_save": _b_user,
    "accounts:scope_save": _b_user,
    "accounts:totp_reset": _b_user,
    "accounts:account_detail": _b_user,
    "accounts:account_set_active": _b_user,
    "accounts:account_reset_password": _b_user,
    "orgs:import_preview": _token,
    "orgs:import_rejected": _token,
    "dashboards:unit": _b_unit,
    "orgs:unit": _b_unit,
    "orgs:children": _b_unit,
    "orgs:unit_add": _b_unit,
    "orgs:unit_edit": _b_unit,
    "orgs:unit_move": _b_unit,
    "orgs:unit_retire": _b_unit,
    "orgs:unit_restore": _b_unit,
    "orgs:department_import_preview": _token,
    "orgs:department_import_rejected": _token,
    "orgs:department_edit": _department,
    "orgs:department_retire": _department,
    "orgs:department_restore": _department,
    "codes:list": _code_list,
    "codes:list_edit": _code_list,
    "codes:item_add": _code_list,
    "codes:item_edit": _code_item,
    "codes:item_retire": _code_item,
    "codes:item_restore": _code_item,
    "audit:detail": _audit_row,
    "notifications:mark_read": _b_notification,
    "people:import_preview": _token,
    "people:import_rejected": _token,
    "people:detail": _b_person,
    "people:edit": _b_person,
    "people:reveal": _b_person_field,
    "people:measure_add": _b_person,
    "people:measure_edit": _b_measure,
    "people:measure_end": _b_measure,
    "people:measure_report_in": _b_measure,
    "people:team": _b_person,
    "people:team_section": _b_person,
    "people:team_add": _b_person,
    "people:team_end": _b_team_member,
    "people:transfer": _b_person,
    "people:record_death": _b_person,
    "people:record_moved_away": _b_person,
    "people:followup": _b_person,
    "people:followup_panel": _b_person,
    "people:test_add": _b_person,
    "people:visit_add": _b_person,
    "people:absence_add": _b_person,
    "people:absence_return": _b_absence,
    "people:test_delete": _b_test,
    "people:visit_delete": _b_visit,
    "inspections:venue": _b_venue,
    "inspections:venue_edit": _b_venue,
    "inspections:letter_add": _b_venue,
    "inspections:inspection_add": _b_venue,
    "inspections:inspection_fix": _b_venue_inspection,
    "inspections:letter_scan": _b_letter,
    "inspections:photo": _b_photo,
    "inspections:outlet": _b_outlet,
    "inspections:outlet_edit": _b_outlet,
    "inspections:courier_inspection_add": _b_outlet,
    "inspections:patrol": _b_patrol,
    "regulation:unit": _b_regulated_unit,
    "regulation:unit_edit": _b_regulated_unit,
    "regulation:licence_add": _b_regulated_unit,
    "regulation:licence_edit": _b_licence,
    "regulation:allowance_add": _b_regulated_unit,
    "regulation:allowance_remove": _b_allowance,
    "regulation:contact_add": _b_regulated_unit,
    "regulation:contact_remove": _b_contact,
    "regulation:ledger": _b_regulated_unit,
    "regulation:entry_add": _b_regulated_unit,
    "regulation:ledger_export": _b_regulated_unit,
    "regulation:entry_void": _b_ledger_entry,
    "regulation:entry_reported": _b_ledger_entry,
    "regulation:import_preview": _token,
    "regulation:import_rejected": _token,
    "regulation:finding": _b_finding,
    "regulation:finding_assign": _b_finding,
    "regulation:finding_close": _b_finding,
    "regulation:campaign": _b_campaign,
    "regulation:check_add": _b_campaign_target,
    "regulation:substance_edit": _substance,
    "targets:breakdown": _target,
    "targets:target_delete": _target,
    "targets:reported_submit": _b_reported,
    "targets:reported_approve": _b_reported,
    "targets:reported_return": _b_reported,
    "targets:letter": _b_township_letter,
    "targets:letter_download": _b_township_letter,
    "targets:letter_scan": _b_township_letter,
    "targets:key_township": _b_key_township,
    "targets:key_delist": _b_key_township,
    "targets:key_letter": _b_key_township,
    "targets:task_done": _b_task,
    "enforcement:case": _b_case,
    "enforcement:case_edit": _b_case,
    "enforcement:suspect_add": _b_case,
    "enforcement:case_seizure_add": _b_case,
    "enforcement:asset_add": _b_case,
    "enforcement:suspect_edit": _b_suspect,
    "enforcement:suspect_reveal": _b_suspect,
    "enforcement:seizure_edit": _b_seizure,
    "enforcement:asset_edit": _b_asset,
    "enforcement:caught_edit": _b_user_caught,
    "enforcement:caught_link": _b_user_caught,
    "enforcement:caught_reveal": _b_user_caught,
    "enforcement:driving_edit": _b_driving_test,
    "enforcement:driving_reveal": _b_driving_test,
    "enforcement:import_preview": _token,
    "enforcement:import_rejected": _token,
}


def test_every_view_declares_an_access_rule():
    missing = [f"{r.pattern} ({r.name})" for r in ROUTES if r.rule is None]
    assert not missing, f"views without an access rule: {missing}"


def test_every_parametrised_url_has_a_sample():
    missing = [r.name for r in ROUTES if r.params and r.name not in SAMPLES]
    assert not missing, f"add a sample to SAMPLES for: {missing}"


def _url(route: Route, personas: Personas) -> str:
    kwargs = SAMPLES[route.name](personas) if route.params else {}
    return reverse(route.name, kwargs=kwargs)


def _may(user: Any, rule: AccessRule) -> bool:
    if rule.public or rule.perm is None:
        return True
    return has_perm(user.role_codes, rule.perm)


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    content = response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        return _xlsx_text(content)
    return content.decode("utf-8", "replace")


def _xlsx_text(content: bytes) -> str:
    import io

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
    return "\n".join(cells)


B_OBJECTS = (
    _b_unit,
    _b_user,
    _b_session,
    _b_notification,
    _b_person,
    _b_person_field,
    _b_measure,
    _b_team_member,
    _b_absence,
    _b_test,
    _b_visit,
    _b_venue,
    _b_venue_inspection,
    _b_letter,
    _b_photo,
    _b_outlet,
    _b_patrol,
    _b_regulated_unit,
    _b_licence,
    _b_allowance,
    _b_contact,
    _b_ledger_entry,
    _b_finding,
    _b_campaign,
    _b_campaign_target,
    _b_reported,
    _b_township_letter,
    _b_key_township,
    _b_task,
    _b_case,
    _b_suspect,
    _b_seizure,
    _b_asset,
    _b_user_caught,
    _b_driving_test,
)
WALKED = [r for r in ROUTES if r.rule is not None]


@pytest.mark.parametrize("route", WALKED, ids=[r.name for r in WALKED])
def test_anonymous_reaches_only_public_pages(route, personas):
    client = Client()
    url = _url(route, personas)
    login_url = reverse("accounts:login")
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, f"{method.upper()} {url}: {response.status_code}"
        if not route.rule.public:
            assert response.status_code == 302, f"{method.upper()} {url} answered anonymous"
            assert response.url.startswith(login_url)
        for sentinel in B_SENTINELS:
            assert sentinel not in _body(response), f"{url} shows {sentinel} to anonymous"


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_persona_walks_every_url(persona, personas):
    user = personas.users[persona]
    client = sign_in(Client(), user)
    problems = []
    for route in WALKED:
        url = _url(route, personas)
        allowed = _may(user, route.rule)
        foreign = route.params and SAMPLES[route.name] in B_OBJECTS
        # Refused personas and personas reaching for 乙镇's objects try writing too;
        # both must be turned away before anything changes.
        methods = ("get", "post") if not allowed or (foreign and persona in OUTSIDE_B) else ("get",)
        for method in methods:
            response = getattr(client, method)(url)
            where = f"{method.upper()} {url} as {persona}"
            if response.status_code >= 500:
                problems.append(f"{where}: server error {response.status_code}")
                continue
            if not allowed and response.status_code != 403:
                problems.append(f"{where}: expected 403, got {response.status_code}")
            if (
                persona in OUTSIDE_B
                and foreign
                and allowed
                and response.status_code not in (404, 405)
            ):
                problems.append(f"{where}: a 乙镇 object answered {response.status_code}, not 404")
            if persona in OUTSIDE_B:
                body = _body(response)
                for sentinel in B_SENTINELS:
                    if sentinel in body:
                        problems.append(f"{where}: shows {sentinel}")
    assert not problems, "\n".join(problems)


def test_walk_sees_township_b_where_it_is_allowed(personas):
    """The sentinels do show where they may, so their absence elsewhere means something."""
    client = sign_in(Client(), personas.county_officer)
    body = client.get(reverse("orgs:unit", kwargs={"pk": personas.territory.township_b.pk}))
    assert "乙镇" in body.content.decode()
    client = sign_in(Client(), personas.cadre_a)
    assert (
        client.get(
            reverse("orgs:unit", kwargs={"pk": personas.territory.township_b.pk})
        ).status_code
        == 404
    )
