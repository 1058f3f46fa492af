"""Writing cultivation patrols, and the checks by higher levels that mark a veto."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from jindu.audit.actions import Action
from jindu.audit.services import record_change, snapshot
from jindu.codes import registry
from jindu.inspections.checks import (
    Errors,
    actor_or_none,
    add_error,
    attach_photos,
    check_code,
    check_date,
    check_text,
    check_unit,
    files_removed_on_error,
    raise_errors,
)
from jindu.inspections.images import MAX_PHOTOS, CheckedFile
from jindu.inspections.models import Patrol

# A rough box around China's territory: a point outside it was typed wrongly.
LATITUDE_RANGE = (Decimal("3.8"), Decimal("53.6"))
LONGITUDE_RANGE = (Decimal("73.5"), Decimal("135.1"))
MAX_DISTANCE_KM = Decimal("500")
MAX_AREA_MU = Decimal("1000000")
MAX_PLANTS = 10_000_000


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def patrol_errors(values: Mapping[str, Any], actor: Any) -> Errors:
    errors: Errors = {}
    check_unit(errors, actor, values["org_unit"])
    check_date(errors, "patrolled_on", values["patrolled_on"], _("踏查日期"))
    if values["check_level"] not in Patrol.CheckLevel.values:
        add_error(errors, "check_level", _("请选择踏查/核查层级"))
    check_code(errors, "land_kind", "land_kind", values["land_kind"], _("地类"))
    check_text(errors, "team", values["team"], _("踏查人员"), limit=300)
    check_text(errors, "place", values["place"], _("踏查地点"), limit=200, required=False)
    distance, area = values["distance_km"], values["area_mu"]
    if distance is None and area is None:
        add_error(errors, "distance_km", _("请填写踏查里程或踏查面积（至少一项）"))
    if distance is not None and not Decimal(0) < distance <= MAX_DISTANCE_KM:
        add_error(
            errors, "distance_km", _("踏查里程应大于0且不超过%(n)s公里") % {"n": MAX_DISTANCE_KM}
        )
    if area is not None and not Decimal(0) < area <= MAX_AREA_MU:
        add_error(errors, "area_mu", _("踏查面积应大于0且不超过%(n)s亩") % {"n": MAX_AREA_MU})
    found, destroyed = values["plants_found"], values["plants_destroyed"]
    for field, value in (("plants_found", found), ("plants_destroyed", destroyed)):
        if not isinstance(value, int) or value < 0:
            add_error(errors, field, _("株数不能为负数"))
        elif value > MAX_PLANTS:
            add_error(errors, field, _("株数过大，请核实"))
    if "plants_found" not in errors and "plants_destroyed" not in errors and destroyed > found:
        add_error(errors, "plants_destroyed", _("铲除株数不能多于发现株数"))
    species = values["plant_species"]
    known = registry.labels("illicit_plant")
    if isinstance(found, int) and found > 0 and not species:
        add_error(errors, "plant_species", _("发现毒品原植物时请选择植物种类"))
    for code in species:
        if code not in known:
            add_error(errors, "plant_species", _("未知的植物种类：%(code)s") % {"code": code})
    lat, lon = values["latitude"], values["longitude"]
    if (lat is None) != (lon is None):
        add_error(
            errors, "latitude" if lat is None else "longitude", _("请同时填写纬度和经度，或都不填")
        )
    else:
        if lat is not None and not LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1]:
            add_error(
                errors,
                "latitude",
                _("纬度应在%(a)s至%(b)s之间（中国境内）")
                % {"a": LATITUDE_RANGE[0], "b": LATITUDE_RANGE[1]},
            )
        if lon is not None and not LONGITUDE_RANGE[0] <= lon <= LONGITUDE_RANGE[1]:
            add_error(
                errors,
                "longitude",
                _("经度应在%(a)s至%(b)s之间（中国境内）")
                % {"a": LONGITUDE_RANGE[0], "b": LONGITUDE_RANGE[1]},
            )
    return errors


PATROL_FIELDS = (
    "patrolled_on",
    "check_level",
    "land_kind",
    "place",
    "team",
    "distance_km",
    "area_mu",
    "plants_found",
    "plants_destroyed",
    "plant_species",
    "latitude",
    "longitude",
)


@transaction.atomic
def record_patrol(
    *,
    actor: Any,
    org_unit: Any,
    patrolled_on: date | None,
    land_kind: str,
    team: str,
    check_level: str = "",
    place: str = "",
    distance_km: Any = None,
    area_mu: Any = None,
    plants_found: int = 0,
    plants_destroyed: int = 0,
    plant_species: Sequence[str] = (),
    latitude: Any = None,
    longitude: Any = None,
    notes: str = "",
    photos: Sequence[CheckedFile] = (),
) -> Patrol:
    """Record a patrol, or a higher level's check, with its photos and GPS point."""
    values = {
        "org_unit": org_unit,
        "patrolled_on": patrolled_on,
        "check_level": check_level or "",
        "land_kind": land_kind,
        "place": (place or "").strip(),
        "team": (team or "").strip(),
        "distance_km": _decimal(distance_km),
        "area_mu": _decimal(area_mu),
        "plants_found": plants_found if plants_found is not None else 0,
        "plants_destroyed": plants_destroyed if plants_destroyed is not None else 0,
        "plant_species": list(dict.fromkeys(plant_species or ())),
        "latitude": _decimal(latitude),
        "longitude": _decimal(longitude),
    }
    errors = patrol_errors(values, actor)
    if len(photos) > MAX_PHOTOS:
        add_error(errors, "photos", _("一次最多上传%(n)d张照片") % {"n": MAX_PHOTOS})
    raise_errors(errors)
    patrol = Patrol(
        **{k: v for k, v in values.items() if k != "org_unit"},
        notes=(notes or "").strip(),
        recorded_by=actor_or_none(actor),
    )
    patrol.set_org_unit(org_unit)
    with files_removed_on_error() as written:
        patrol.save()
        count = attach_photos(photos, actor=actor, written=written, patrol=patrol)
        record_change(
            actor=actor,
            action=Action.RECORD_CREATED,
            obj=patrol,
            after=snapshot(patrol, PATROL_FIELDS),
            extra={"photos": count},
        )
    return patrol
