"""The enforcement pages by persona: lists scoped by township and department, 乙镇's
records answering 404 to 甲镇, forms refusing bad input next to the field and
keeping what was typed, and exports of each list."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.enforcement.models import Case, Seizure, Suspect, UserCaught
from tests.helpers import sign_in
from tests.people_factories import make_id_number
from tests.test_enforcement_factories import add_suspect, catch, d, driving, make_case, seize


@pytest.fixture
def records(personas, territory):
    """A case in 甲一村 and one in 乙一村, each with a suspect, a seizure, a user caught and
    a drug-driving test."""
    office, police = personas.county_officer, territory.police_dept
    found = {}
    for key, village in (("a", territory.village_a), ("b", territory.village_b)):
        case = make_case(office, village, police, number=f"{village.name}-001",
                         solved_on=d("2023-03-10"))  # fmt: skip
        add_suspect(office, case, name=f"{village.name}嫌疑人")
        seize(office, "heroin", "2.5", d("2023-03-10"), case=case)
        catch(office, village, police, d("2023-05-05"), name=f"{village.name}吸毒人员")
        driving(office, village, police, d("2023-06-06"), name=f"{village.name}驾驶人")
        found[key] = case
    return found


def page(client, name, *args, **query):
    response = client.get(reverse(name, args=args), query)
    return response, response.content.decode()


# ------------------------------------------------------------------ scope


def test_the_township_police_see_only_their_townships_cases(client, personas, records):
    sign_in(client, personas.police_officer)
    response, body = page(client, "enforcement:cases")
    assert response.status_code == 200
    assert "甲一村-001" in body and "乙一村-001" not in body
    for name in ("enforcement:seizures", "enforcement:caught", "enforcement:driving"):
        response, body = page(client, name)
        assert response.status_code == 200 and "乙一村" not in body, name


def test_another_townships_case_is_not_found(client, personas, records):
    sign_in(client, personas.police_officer)
    b = records["b"]
    assert client.get(reverse("enforcement:case", args=[b.pk])).status_code == 404
    assert client.get(reverse("enforcement:case_edit", args=[b.pk])).status_code == 404
    suspect = Suspect.objects.get(case=b)
    assert (
        client.post(reverse("enforcement:suspect_edit", args=[suspect.pk]), {}).status_code == 404
    )
    assert client.get(reverse("enforcement:case", args=[records["a"].pk])).status_code == 200


def test_the_county_office_sees_every_township(client, personas, records):
    sign_in(client, personas.county_officer)
    _response, body = page(client, "enforcement:cases")
    assert "甲一村-001" in body and "乙一村-001" in body
    _response, body = page(client, "enforcement:cases", township=personas.territory.township_b.pk)
    assert "甲一村-001" not in body and "乙一村-001" in body


def test_the_education_reporter_sees_no_police_records(client, personas, records):
    sign_in(client, personas.dept_reporter)
    for name in ("enforcement:cases", "enforcement:seizures", "enforcement:caught"):
        _response, body = page(client, name)
        assert "甲一村" not in body and "乙一村" not in body, name
    assert client.get(reverse("enforcement:case", args=[records["a"].pk])).status_code == 404
    user = personas.dept_reporter
    assert not Case.objects.for_user(user).exists()
    assert not Seizure.objects.for_user(user).exists()
    assert not UserCaught.objects.for_user(user).exists()


def test_the_leader_reads_lists_but_not_names(client, personas, records):
    sign_in(client, personas.leader)
    response, body = page(client, "enforcement:cases")
    assert response.status_code == 200 and "甲一村-001" in body
    assert client.get(reverse("enforcement:case", args=[records["a"].pk])).status_code == 403
    assert client.get(reverse("enforcement:caught")).status_code == 403
    assert client.get(reverse("enforcement:case_add")).status_code == 403


def test_administrators_are_refused_the_work(client, personas, records):
    for name in ("sys_admin", "audit_admin"):
        sign_in(client, personas.users[name])
        assert client.get(reverse("enforcement:cases")).status_code == 403


def test_list_filters_by_year_status_and_kind(client, personas, territory, records):
    office = personas.county_officer
    make_case(office, territory.village_a, territory.police_dept, number="未破-2024",
              filed_on=d("2024-02-02"), offence="possession")  # fmt: skip
    sign_in(client, office)
    _r, body = page(client, "enforcement:cases", year=2024)
    assert "未破-2024" in body and "甲一村-001" not in body
    _r, body = page(client, "enforcement:cases", status="filed")
    assert "未破-2024" in body and "甲一村-001" not in body
    _r, body = page(client, "enforcement:cases", status="solved")
    assert "未破-2024" not in body and "甲一村-001" in body
    _r, body = page(client, "enforcement:cases", offence="possession", year="nonsense")
    assert "未破-2024" in body and "甲一村-001" not in body


def test_a_cases_stage_follows_its_dates(client, personas, records):
    office = personas.county_officer
    sign_in(client, office)
    _r, body = page(client, "enforcement:cases", status="solved")
    assert "甲一村-001" in body
    suspect = Suspect.objects.get(case=records["a"])
    from jindu.enforcement import services

    services.update_suspect(actor=office, suspect=suspect, prosecuted_on=d("2023-04-01"))
    _r, body = page(client, "enforcement:cases", status="prosecuted")
    assert "甲一村-001" in body and "乙一村-001" not in body
    services.update_case(actor=office, case=records["a"], closed_on=d("2023-06-01"))
    _r, body = page(client, "enforcement:case", records["a"].pk)
    assert "结案" in body


# ------------------------------------------------------------------ forms


def case_post(territory, **changes):
    return {
        "number": "新案-001",
        "offence": "trafficking",
        "org_unit": territory.village_a.pk,
        "department": territory.police_dept.pk,
        "filed_on": "2024-03-01",
        "solved_on": "",
    } | changes


def test_the_police_file_a_case_from_the_form(client, personas, territory):
    sign_in(client, personas.police_officer)
    form = client.get(reverse("enforcement:case_add")).content.decode()
    assert f'value="{territory.police_dept.pk}" selected' in form
    response = client.post(
        reverse("enforcement:case_add"), case_post(territory, street_dealing="on")
    )
    case = Case.objects.get(number="新案-001")
    assert response.status_code == 302 and response.url == reverse(
        "enforcement:case", args=[case.pk]
    )
    assert case.street_dealing and case.created_by == personas.police_officer


def test_a_solved_date_before_filing_is_shown_next_to_the_field_and_input_kept(
    client, personas, territory
):
    sign_in(client, personas.police_officer)
    response = client.post(
        reverse("enforcement:case_add"),
        case_post(territory, solved_on="2024-02-01", summary="在甲一村查获零包贩毒"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "破案日期不能早于立案日期" in body and 'id="id_solved_on_errors"' in body
    assert 'value="新案-001"' in body and "在甲一村查获零包贩毒" in body
    assert not Case.objects.exists()


def test_a_missing_field_is_named_in_chinese(client, personas, territory):
    sign_in(client, personas.police_officer)
    body = client.post(reverse("enforcement:case_add"), case_post(territory, number="")).content
    assert "请填写案件编号" in body.decode()


def test_a_negative_weight_is_refused_on_the_seizure_form(client, personas, records):
    sign_in(client, personas.police_officer)
    url = reverse("enforcement:case_seizure_add", args=[records["a"].pk])
    response = client.post(url, {"seized_on": "2023-03-10", "drug_type": "heroin",
                                 "weight_g": "-12.5", "pills": "3"})  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200 and "重量不能为负数" in body
    assert 'value="-12.5"' in body and 'value="3"' in body
    assert Seizure.objects.filter(case=records["a"]).count() == 1
    response = client.post(url, {"seized_on": "2023-03-10", "drug_type": "heroin",
                                 "weight_g": "2000000"})  # fmt: skip
    assert "不合常理" in response.content.decode()
    response = client.post(url, {"seized_on": "2023-03-10", "drug_type": "heroin",
                                 "weight_g": "12.5"})  # fmt: skip
    assert response.status_code == 302
    assert Seizure.objects.filter(case=records["a"]).count() == 2


def test_a_suspect_form_refuses_a_bad_id_and_an_early_referral(client, personas, records):
    sign_in(client, personas.police_officer)
    url = reverse("enforcement:suspect_add", args=[records["a"].pk])
    post = {"name": "王某", "id_number": "621199198505050019", "household": "local",
            "caught_on": "2023-03-10", "prosecuted_on": "2023-02-01"}  # fmt: skip
    body = client.post(url, post).content.decode()
    assert "校验位不正确" in body and "移送起诉日期不能早于立案日期" in body
    assert 'value="王某"' in body
    assert Suspect.objects.filter(case=records["a"]).count() == 1


def test_editing_a_suspect_keeps_the_id_number_when_left_blank(client, personas, records):
    sign_in(client, personas.police_officer)
    suspect = Suspect.objects.get(case=records["a"])
    number = suspect.id_number
    url = reverse("enforcement:suspect_edit", args=[suspect.pk])
    form = client.get(url).content.decode()
    assert number not in form
    response = client.post(url, {"name": "改名", "id_number": "", "household": "non_local",
                                 "caught_on": "2023-03-10", "prosecuted_on": "2023-04-01"})  # fmt: skip
    assert response.status_code == 302
    suspect.refresh_from_db()
    assert (suspect.name, suspect.id_number, suspect.household) == ("改名", number, "non_local")


def test_an_asset_form_refuses_a_negative_amount(client, personas, records):
    sign_in(client, personas.police_officer)
    url = reverse("enforcement:asset_add", args=[records["a"].pk])
    body = client.post(url, {"confiscated_on": "2023-03-10", "kind": "cash",
                             "amount": "-500"}).content.decode()  # fmt: skip
    assert "价值不能为负数" in body and 'value="-500"' in body


def test_a_user_caught_form_registers_the_person_when_asked(client, personas, territory):
    sign_in(client, personas.police_officer)
    number = make_id_number(date(1993, 3, 3), 333)
    post = {"caught_on": "2024-05-01", "name": "赵某", "id_number": number,
            "drug_type": "methamphetamine", "outcome": "community_detox",
            "org_unit": territory.village_a.pk, "department": territory.police_dept.pk,
            "register": "on"}  # fmt: skip
    body = client.post(reverse("enforcement:caught_add"), post).content.decode()
    assert "请选择责任单位" in body and 'value="赵某"' in body
    response = client.post(
        reverse("enforcement:caught_add"), post | {"register_unit": territory.grid_a.pk}
    )
    assert response.status_code == 302
    record = UserCaught.objects.get(name="赵某")
    assert record.person is not None and record.person.org_unit == territory.grid_a


def test_a_drug_driving_form_refuses_reporting_a_negative(client, personas, territory):
    sign_in(client, personas.police_officer)
    post = {"tested_on": "2024-05-01", "name": "钱某",
            "id_number": make_id_number(date(1980, 1, 1), 11), "result": "negative",
            "licence_held": "on", "licence_reported_on": "2024-05-02",
            "org_unit": territory.village_a.pk, "department": territory.police_dept.pk}  # fmt: skip
    body = client.post(reverse("enforcement:driving_add"), post).content.decode()
    assert "检测结果为阴性，不应报请注销驾驶证" in body


# ------------------------------------------------------------------ exports


def _sheet(response):
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_each_list_exports_its_own_rows_audited(client, personas, records):
    sign_in(client, personas.police_officer)
    rows = _sheet(client.get(reverse("enforcement:case_export")))
    assert rows[0][0] == "案件编号" and [r[0] for r in rows[1:]] == ["甲一村-001"]
    assert rows[1][13] == 1 and rows[1][14] == 2.5
    rows = _sheet(client.get(reverse("enforcement:seizure_export")))
    assert len(rows) == 2 and rows[1][3] == 2.5
    rows = _sheet(client.get(reverse("enforcement:caught_export")))
    assert rows[1][1] == "甲一村吸毒人员" and "********" in rows[1][2]
    rows = _sheet(client.get(reverse("enforcement:driving_export")))
    assert rows[1][1] == "甲一村驾驶人" and "********" in rows[1][2]
    exports = AuditEvent.objects.filter(action=Action.EXPORTED).values_list(
        "object_type", flat=True
    )
    assert sorted(exports) == sorted(
        ["enforcement.case", "enforcement.seizure", "enforcement.usercaught",
         "enforcement.drugdrivingtest"]
    )  # fmt: skip


def test_the_pages_render_on_a_phone_without_inline_styles(client, personas, records):
    sign_in(client, personas.county_officer)
    for name, args in (("enforcement:cases", ()), ("enforcement:case", (records["a"].pk,)),
                       ("enforcement:caught_add", ()), ("enforcement:seizures", ())):  # fmt: skip
        _r, body = page(client, name, *args)
        assert 'name="viewport"' in body and ' style="' not in body, name


def test_the_lists_ask_the_same_number_of_queries_for_more_rows(
    client, personas, territory, records
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    office, police = personas.county_officer, territory.police_dept
    sign_in(client, office)
    names = (
        "enforcement:cases",
        "enforcement:seizures",
        "enforcement:caught",
        "enforcement:driving",
    )

    def counts():
        found = []
        for name in names:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(name)).status_code == 200
            found.append(len(queries))
        return found

    before = counts()
    for n in range(6):
        case = make_case(office, territory.village_a, police, number=f"更多-{n}",
                         solved_on=d("2023-03-10"))  # fmt: skip
        add_suspect(office, case)
        seize(office, "heroin", "1", d("2023-03-10"), case=case)
        catch(office, territory.village_b, police, d("2023-05-05"))
        driving(office, territory.village_b, police, d("2023-06-06"))
    assert counts() == before
