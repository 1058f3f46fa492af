"""The rules of enforcement writes: dates in order, weights and amounts in range, ID
numbers valid, case numbers unique in a county, scope and department, an audit row
for each write and nothing half-written when a rule refuses."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.enforcement import caught, services
from jindu.enforcement.models import Case, Seizure, Suspect, UserCaught
from jindu.orgs import services as orgs
from jindu.people.models import Person
from tests.people_factories import make_id_number, make_person
from tests.test_enforcement_factories import add_suspect, catch, d, driving, make_case, seize


@pytest.fixture
def office(personas):
    return personas.county_officer


@pytest.fixture
def case(office, territory):
    return make_case(office, territory.village_a, territory.police_dept, solved_on=d("2023-03-10"))


def messages(exc: pytest.ExceptionInfo, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


# ------------------------------------------------------------------ cases


def test_a_solved_date_before_the_filed_date_is_refused(office, territory):
    with pytest.raises(ValidationError) as exc:
        make_case(office, territory.village_a, territory.police_dept,
                  filed_on=d("2023-03-01"), solved_on=d("2023-02-28"))  # fmt: skip
    assert "破案日期不能早于立案日期" in messages(exc, "solved_on")
    assert not Case.objects.exists()


def test_dates_in_the_future_and_out_of_order_are_refused(office, territory):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        make_case(
            office, territory.village_a, territory.police_dept, occurred_on=d("2023-03-05"),
            filed_on=d("2023-03-01"), closed_on=tomorrow,
        )  # fmt: skip
    assert "案发日期不能晚于立案日期" in messages(exc, "occurred_on")
    assert "结案日期不能晚于今天" in messages(exc, "closed_on")


def test_a_case_number_is_unique_in_its_county_only(office, territory, case):
    with pytest.raises(ValidationError) as exc:
        make_case(office, territory.village_b, territory.police_dept, number=case.number.lower())
    assert "本县已有编号" in messages(exc, "number")
    other = orgs.create_unit(
        actor=None, name="邻县", level="county", parent=None, division_code="621198000000"
    )
    town = orgs.create_unit(
        actor=None, name="邻镇", level="township", parent=other, division_code="621198100000"
    )
    police = orgs.create_department(
        actor=None, county=other, name="邻县公安局", short_name="公安局"
    )
    assert make_case(None, town, police, number=case.number).pk != case.pk


def test_a_place_must_be_a_township_or_village_inside_the_scope(personas, territory):
    police = territory.police_dept
    with pytest.raises(ValidationError) as exc:
        make_case(personas.cadre_a, territory.grid_a, police)
    assert "乡镇（街道）或村（社区）" in messages(exc, "org_unit")
    with pytest.raises(ValidationError) as exc:
        make_case(personas.cadre_a, territory.village_b, police)
    assert "不在您的管辖范围内" in messages(exc, "org_unit")


def test_a_department_reporter_records_only_for_their_own_department(personas, territory):
    with pytest.raises(ValidationError) as exc:
        make_case(personas.dept_reporter, territory.village_a, territory.police_dept)
    assert "本部门" in messages(exc, "department")


def test_a_case_caused_by_a_user_links_the_registered_person(office, territory):
    person = make_person(office, territory.village_a)
    case = make_case(
        office, territory.village_a, territory.police_dept, offence="theft", caused_by_user=True,
        caused_kind="criminal", caused_id_number=person.id_number.lower(),
    )  # fmt: skip
    assert case.caused_person == person
    with pytest.raises(ValidationError) as exc:
        make_case(office, territory.village_a, territory.police_dept, caused_by_user=True)
    assert "刑事或治安" in messages(exc, "caused_kind")
    with pytest.raises(ValidationError) as exc:
        make_case(
            office, territory.village_a, territory.police_dept, caused_by_user=True,
            caused_kind="criminal", caused_id_number=make_id_number(date(1990, 9, 9), 9),
        )  # fmt: skip
    assert "名册中没有该身份证号" in messages(exc, "caused_id_number")


def test_solving_a_case_later_is_an_audited_update(office, territory):
    case = make_case(office, territory.village_a, territory.police_dept)
    services.update_case(actor=office, case=case, solved_on=d("2023-04-01"))
    case.refresh_from_db()
    assert case.solved_on == d("2023-04-01")
    event = AuditEvent.objects.get(action=Action.RECORD_UPDATED, object_type="enforcement.case")
    assert '"solved_on":[null,"2023-04-01"]' in event.detail


def test_moving_a_case_moves_its_suspects_and_assets(office, territory, case):
    suspect = add_suspect(office, case)
    asset = services.record_asset(
        actor=office, case=case, confiscated_on=d("2023-03-10"), kind="cash", amount="10"
    )
    services.update_case(actor=office, case=case, org_unit=territory.village_b)
    suspect.refresh_from_db()
    asset.refresh_from_db()
    assert suspect.org_path == asset.org_path == territory.village_b.path


def test_the_filed_date_cannot_pass_a_suspects_referral(office, case):
    add_suspect(office, case, prosecuted_on=d("2023-04-01"))
    with pytest.raises(ValidationError) as exc:
        services.update_case(actor=office, case=case, filed_on=d("2023-04-05"),
                             solved_on=d("2023-04-06"))  # fmt: skip
    assert "移送起诉日期" in messages(exc, "filed_on")


# ------------------------------------------------------------------ suspects


def test_a_prosecution_date_before_the_case_was_filed_is_refused(office, case):
    with pytest.raises(ValidationError) as exc:
        add_suspect(office, case, caught_on=d("2023-02-01"), prosecuted_on=d("2023-02-20"))
    assert "移送起诉日期不能早于立案日期" in messages(exc, "prosecuted_on")
    assert not Suspect.objects.exists()


def test_a_sentence_needs_a_prosecution_before_it(office, case):
    with pytest.raises(ValidationError) as exc:
        add_suspect(office, case, sentenced_on=d("2023-05-01"))
    assert "尚未移送起诉" in messages(exc, "sentenced_on")


@pytest.mark.parametrize(
    "raw, says",
    [
        ("62119919850505001", "应为18位"),
        ("621199198505050019", "校验位不正确"),
        ("621199198513050016", "不是真实日期"),
        ("", "请填写身份证号"),
    ],
)
def test_an_invalid_suspect_id_number_is_refused_in_chinese(office, case, raw, says):
    with pytest.raises(ValidationError) as exc:
        add_suspect(office, case, id_number=raw)
    assert says in messages(exc, "id_number")


def test_a_suspect_takes_sex_and_birth_from_the_id_number_and_once_per_case(office, case):
    number = make_id_number(date(1984, 2, 29), 42)
    suspect = add_suspect(office, case, id_number=number)
    assert (suspect.sex, suspect.birth_date) == ("F", date(1984, 2, 29))
    assert suspect.adult_on == date(2002, 3, 1)
    with pytest.raises(ValidationError) as exc:
        add_suspect(office, case, id_number=number)
    assert "已在本案" in messages(exc, "id_number")


def test_a_suspect_born_after_the_offence_is_refused(office, territory):
    case = make_case(office, territory.village_a, territory.police_dept, filed_on=d("2010-05-01"))
    with pytest.raises(ValidationError) as exc:
        add_suspect(office, case, birth=date(2011, 1, 1))
    assert "晚于案发日期" in messages(exc, "id_number")


# ------------------------------------------------------------------ seizures


@pytest.mark.parametrize(
    "weight, says",
    [
        ("-3", "不能为负数"),
        ("0", "须大于0克"),
        ("1000000.1", "超过1,000,000克"),
        ("12.25", "最多保留一位小数"),
        ("1.5千克", "以克为单位"),
        ("一百克", "应为数字"),
        ("", "请填写重量"),
    ],
)
def test_a_bad_seizure_weight_is_refused_in_chinese(office, case, weight, says):
    with pytest.raises(ValidationError) as exc:
        seize(office, "heroin", weight, d("2023-03-10"), case=case)
    assert says in messages(exc, "weight_g")
    assert not Seizure.objects.exists()


def test_a_weight_is_kept_to_the_tenth_of_a_gram(office, case):
    assert seize(office, "heroin", "113.30", d("2023-03-10"), case=case).weight_g == Decimal(
        "113.3"
    )
    assert seize(office, "heroin", "1,000,000", d("2023-03-10"), case=case).weight_g == Decimal(
        "1000000.0"
    )


def test_a_seizure_in_a_case_takes_the_case_department_and_place(office, territory, case):
    seizure = seize(office, "heroin", "1", d("2023-03-10"), case=case,
                    department=territory.education_dept)  # fmt: skip
    assert seizure.department == territory.police_dept
    assert seizure.org_path == territory.village_a.path


def test_a_seizure_needs_a_known_drug_type(office, case):
    with pytest.raises(ValidationError) as exc:
        seize(office, "sugar", "1", d("2023-03-10"), case=case)
    assert "毒品种类" in messages(exc, "drug_type")


def test_a_negative_asset_is_refused(office, case):
    with pytest.raises(ValidationError) as exc:
        services.record_asset(
            actor=office, case=case, confiscated_on=d("2023-03-10"), kind="cash", amount="-1"
        )
    assert "不能为负数" in messages(exc, "amount")


# ------------------------------------------------------------------ users caught, drug driving


def test_a_user_caught_is_linked_to_the_register_by_id_number(office, territory):
    person = make_person(office, territory.village_a)
    record = catch(office, territory.village_a, territory.police_dept, d("2023-05-01"),
                   id_number=person.id_number)  # fmt: skip
    assert record.person == person


def test_a_user_not_on_the_register_can_be_registered_at_once(office, territory):
    number = make_id_number(date(1991, 3, 3), 303)
    record = catch(
        office, territory.village_a, territory.police_dept, d("2023-05-01"), name="新发现",
        id_number=number, register_unit=territory.grid_a,
    )  # fmt: skip
    person = Person.objects.get(pk=record.person_id)
    assert (person.name, person.first_found_on, person.how_found) == (
        "新发现",
        d("2023-05-01"),
        "police_seized",
    )
    assert person.drug_types == ["heroin"]


def test_registering_in_a_township_is_refused_and_nothing_is_written(office, territory):
    with pytest.raises(ValidationError) as exc:
        catch(office, territory.village_a, territory.police_dept, d("2023-05-01"),
              register_unit=territory.township_a)  # fmt: skip
    assert "村（社区）或网格" in messages(exc, "register_unit")
    assert not UserCaught.objects.exists() and not Person.objects.exists()


def test_a_user_caught_before_registration_is_linked_later(office, territory):
    number = make_id_number(date(1992, 4, 4), 404)
    record = catch(office, territory.village_a, territory.police_dept, d("2023-05-01"),
                   id_number=number)  # fmt: skip
    assert record.person is None
    assert caught.link_user_caught(actor=office, caught=record) is None
    person = make_person(office, territory.village_a, id_number=number)
    assert caught.link_user_caught(actor=office, caught=record) == person


def test_a_licence_is_reported_only_for_a_positive_holder_after_the_test(office, territory):
    police, place = territory.police_dept, territory.village_a
    with pytest.raises(ValidationError) as exc:
        driving(office, place, police, d("2023-05-01"), licence_reported_on=d("2023-05-02"))
    assert "未持有驾驶证" in messages(exc, "licence_reported_on")
    with pytest.raises(ValidationError) as exc:
        driving(office, place, police, d("2023-05-01"), result="negative", licence_held=True,
                licence_reported_on=d("2023-05-02"))  # fmt: skip
    assert "阴性" in messages(exc, "licence_reported_on")
    with pytest.raises(ValidationError) as exc:
        driving(office, place, police, d("2023-05-01"), licence_held=True,
                licence_reported_on=d("2023-04-30"))  # fmt: skip
    assert "不能早于检测日期" in messages(exc, "licence_reported_on")


def test_every_write_is_audited_with_the_id_number_masked(office, territory, case):
    number = make_id_number(date(1985, 5, 5), 77)
    add_suspect(office, case, id_number=number)
    event = AuditEvent.objects.get(object_type="enforcement.suspect")
    assert event.action == Action.RECORD_CREATED
    assert number not in event.detail and number[:6] + "********" in event.detail
    assert "测试嫌疑人" not in event.object_repr
