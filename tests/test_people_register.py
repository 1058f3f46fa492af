"""Registering and editing a person through the pages: the ID number's rules in
Chinese, one registration per ID number across the county, what is derived from
the number, and input that survives a refusal."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from jindu.audit.actions import Action
from jindu.audit.models import AuditEvent
from jindu.people.models import Person
from tests.helpers import sign_in
from tests.people_factories import make_id_number, make_person

CREATE = reverse("people:create")


def _form(unit, **changes):
    data = {
        "name": "赵甲一",
        "id_number": make_id_number(date(1985, 6, 15), 31),
        "org_unit": unit.pk,
        "ethnicity": "01",
        "phone": "13812345678",
        "household_address": "甘肃省青岚县甲镇甲一村3组",
        "household_local": "on",
        "current_address": "青岚县甲镇甲一村3组12号",
        "first_found_on": "2019-04-02",
        "how_found": "police_seized",
        "drug_types": ["heroin", "methamphetamine"],
        "occupation": "务农",
        "employment": "flexible",
        "family_support": "on",
        "use_started_on": "2017-01-01",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def cadre(client, personas):
    return sign_in(client, personas.cadre_a)


def test_registering_a_person_derives_sex_and_birth_date_from_the_id_number(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_a))
    person = Person.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("people:detail", args=[person.pk])
    assert (person.sex, person.birth_date) == ("M", date(1985, 6, 15))
    assert person.org_unit == territory.village_a
    assert person.drug_types == ["heroin", "methamphetamine"]
    assert person.phone == "13812345678"
    assert person.ethnicity == "01" and person.employment == "flexible"
    assert AuditEvent.objects.filter(
        action=Action.RECORD_CREATED, object_id=str(person.pk)
    ).exists()


def test_a_woman_is_derived_from_an_even_sequence(cadre, territory):
    cadre.post(CREATE, _form(territory.grid_a, id_number=make_id_number(date(1992, 1, 2), 44)))
    assert Person.objects.get().sex == "F"


def test_a_fifteen_digit_number_is_stored_as_eighteen_with_a_notice(cadre, territory):
    response = cadre.post(
        CREATE, _form(territory.village_a, id_number="621199850615031"), follow=True
    )
    person = Person.objects.get()
    assert person.id_number == make_id_number(date(1985, 6, 15), 31)
    page = response.content.decode()
    assert "15位旧身份证号已转换为18位" in page
    # The notice shows the number masked, like every page.
    assert person.id_number not in page


def test_a_lower_case_x_is_accepted_and_stored_upper_case(cadre, territory):
    number = "11010519491231002X"
    cadre.post(CREATE, _form(territory.village_a, id_number=number.lower()))
    assert Person.objects.get().id_number == number


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写身份证号"),
        ("62119919850615031", "身份证号应为18位（或15位旧号），当前为17位"),
        ("621199198506150310", "校验位不正确"),
        ("621199203001010012", "晚于今天"),
        ("991199198506150315", "地区码991199不存在"),
    ],
)
def test_a_bad_id_number_is_refused_in_chinese_next_to_the_field(cadre, territory, raw, message):
    response = cadre.post(CREATE, _form(territory.village_a, id_number=raw))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors["id_number"])
    assert message in response.content.decode()
    assert not Person.objects.exists()


def test_what_was_typed_survives_a_refusal(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_a, id_number="123"))
    page = response.content.decode()
    for typed in ("赵甲一", "13812345678", "青岚县甲镇甲一村3组12号", "2019-04-02", "务农"):
        assert typed in page
    form = response.context["form"]
    assert form["drug_types"].value() == ["heroin", "methamphetamine"]


def test_a_second_registration_of_an_id_number_is_refused(cadre, personas, territory):
    number = make_id_number(date(1985, 6, 15), 31)
    make_person(personas.cadre_a, territory.village_a, id_number=number)
    response = cadre.post(CREATE, _form(territory.grid_a, id_number=number, name="赵甲二"))
    assert "该身份证号已登记，不能重复登记" in response.content.decode()
    assert Person.objects.count() == 1


def test_a_registration_in_another_township_is_refused_too(client, personas, territory):
    """乙镇 cannot see 甲镇's person, and still cannot register them a second time."""
    number = make_id_number(date(1985, 6, 15), 31)
    make_person(personas.cadre_a, territory.village_a, id_number=number)
    sign_in(client, personas.cadre_b)
    response = client.post(
        CREATE,
        _form(
            territory.village_b,
            id_number=number,
            name="赵乙",
            household_address="乙镇",
            current_address="乙镇",
        ),
    )
    assert response.status_code == 200
    assert "该身份证号已登记" in response.content.decode()
    # The refusal says nothing of who registered the person or where.
    assert "甲一村" not in response.content.decode()
    assert Person.objects.count() == 1


def test_the_fifteen_digit_form_of_a_registered_number_is_a_duplicate(cadre, personas, territory):
    make_person(
        personas.cadre_a, territory.village_a, id_number=make_id_number(date(1985, 6, 15), 31)
    )
    response = cadre.post(CREATE, _form(territory.village_a, id_number="621199850615031"))
    assert "该身份证号已登记" in response.content.decode()


def test_the_responsible_unit_must_be_a_village_or_grid_in_scope(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_b))
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    response = cadre.post(CREATE, _form(territory.township_a))
    assert "所选单位不存在或不在您的管辖范围内" in response.content.decode()
    assert not Person.objects.exists()


def test_the_unit_chooser_offers_only_villages_and_grids_of_the_own_township(cadre, territory):
    choices = [label for _v, label in cadre.get(CREATE).context["form"].fields["org_unit"].choices]
    names = {label.strip("\u3000") for label in choices}
    assert {"甲一村", "甲一村第一网格"} <= names
    assert not names & {"乙一村", "乙一村第一网格", "甲镇", "青岚县"}


def test_a_key_person_needs_a_reason(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_a, key_person="on"))
    assert "请填写列为重点人员的原因" in response.content.decode()
    cadre.post(
        CREATE, _form(territory.village_a, key_person="on", key_person_reason="曾有暴力倾向")
    )
    assert Person.objects.get().key_person_reason == "曾有暴力倾向"


def test_a_date_before_birth_is_refused_by_the_service(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_a, first_found_on="1980-01-01"))
    assert "初次发现日期不能早于出生日期" in response.content.decode()


def test_an_unreadable_date_is_explained(cadre, territory):
    response = cadre.post(CREATE, _form(territory.village_a, first_found_on="去年"))
    assert "请输入有效日期" in response.content.decode()


def test_the_code_lists_offer_the_56_ethnic_groups_and_the_ways_people_are_found(cadre):
    form = cadre.get(CREATE).context["form"]
    ethnicities = dict(form.fields["ethnicity"].choices)
    assert len(ethnicities) == 58  # 56 groups, 其他, and "not filled in"
    assert ethnicities["01"] == "汉族" and ethnicities["56"] == "基诺族"
    assert "强制隔离戒毒所转入" in dict(form.fields["how_found"].choices).values()
    assert "灵活就业" in dict(form.fields["employment"].choices).values()


def test_the_form_has_no_status_field(cadre, personas, territory):
    form = cadre.get(CREATE).context["form"]
    assert not {"status", "measure_kind", "clean_since"} & set(form.fields)
    person = make_person(personas.cadre_a, territory.village_a)
    form = cadre.get(reverse("people:edit", args=[person.pk])).context["form"]
    assert not {"status", "measure_kind", "org_unit", "sex", "birth_date"} & set(form.fields)


# ------------------------------------------------------------------ edit


def test_editing_shows_secrets_masked_and_keeps_them_when_left_empty(cadre, personas, territory):
    person = make_person(
        personas.cadre_a,
        territory.village_a,
        phone="13812345678",
        current_address="青岚县甲镇甲一村3组12号",
    )
    url = reverse("people:edit", args=[person.pk])
    page = cadre.get(url).content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page and person.id_number not in page
    response = cadre.post(
        url,
        {
            "name": "改名",
            "id_number": "",
            "phone": "",
            "family_support": "on",
            "household_local": "on",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.name == "改名"
    assert person.phone == "13812345678"
    assert person.current_address == "青岚县甲镇甲一村3组12号"


def test_correcting_the_id_number_rederives_sex_and_birth(cadre, personas, territory):
    person = make_person(
        personas.cadre_a, territory.village_a, id_number=make_id_number(date(1980, 1, 1), 11)
    )
    new = make_id_number(date(1981, 2, 3), 12)
    cadre.post(
        reverse("people:edit", args=[person.pk]),
        {"name": person.name, "id_number": new, "household_local": "on"},
    )
    person.refresh_from_db()
    assert (person.id_number, person.sex, person.birth_date) == (new, "F", date(1981, 2, 3))


def test_correcting_to_another_persons_number_is_refused(cadre, personas, territory):
    other = make_person(personas.cadre_a, territory.village_a)
    person = make_person(personas.cadre_a, territory.village_a)
    response = cadre.post(
        reverse("people:edit", args=[person.pk]),
        {"name": person.name, "id_number": other.id_number},
    )
    assert "该身份证号已登记给另一人员" in response.content.decode()


def test_death_and_moving_away_are_not_edits(cadre, personas, territory):
    person = make_person(personas.cadre_a, territory.village_a)
    cadre.post(
        reverse("people:edit", args=[person.pk]),
        {"name": person.name, "died_on": "2025-01-01", "moved_away_on": "2025-01-01"},
    )
    person.refresh_from_db()
    assert person.died_on is None and person.moved_away_on is None


@pytest.mark.parametrize("name", ["grid_worker", "police_officer", "county_officer"])
def test_field_roles_register_people(client, personas, territory, name):
    sign_in(client, personas.users[name])
    unit = territory.grid_a
    response = client.post(CREATE, _form(unit))
    assert response.status_code == 302
    assert Person.objects.get().org_unit == unit


def test_the_leader_reads_nothing_and_registers_nothing(client, personas, territory):
    sign_in(client, personas.leader)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, _form(territory.village_a)).status_code == 403
    assert not Person.objects.exists()


def test_a_large_subtree_is_narrowed_to_a_township_before_the_form(
    client, personas, territory, monkeypatch
):
    from jindu.people import views

    monkeypatch.setattr(views, "UNIT_CHOICES_MAX", 2)
    sign_in(client, personas.county_officer)
    page = client.get(CREATE).content.decode()
    assert f"{CREATE}?under={territory.township_a.pk}" in page
    assert f"{CREATE}?under={territory.township_b.pk}" in page
    response = client.get(CREATE, {"under": territory.village_a.pk})
    choices = dict(response.context["form"].fields["org_unit"].choices)
    assert set(choices.values()) - {"请选择村（社区）或网格"} == {"甲一村", "\u3000甲一村第一网格"}
    response = client.post(f"{CREATE}?under={territory.village_a.pk}", _form(territory.grid_a))
    assert response.status_code == 302
    assert Person.objects.get().org_unit == territory.grid_a


def test_narrowing_outside_the_scope_answers_404(client, personas, territory):
    sign_in(client, personas.cadre_a)
    assert client.get(CREATE, {"under": territory.township_b.pk}).status_code == 404


def test_the_registers_code_lists_ship_beside_the_app_and_load_once(db):
    from jindu.codes import loader

    names = [str(path.relative_to(path.parents[2])) for path in loader.shipped_files()]
    assert names[0].endswith("codes/data/defaults.json")
    assert "people/data/codes.json" in names
    # Loaded after migrate already; a second load adds nothing and changes nothing.
    assert loader.load_defaults() == {"lists": 0, "items": 0}
