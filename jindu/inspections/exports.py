"""Excel exports of the venue, courier and patrol lists. Phones are masked."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from jindu.codes import registry
from jindu.core.excel import Column, Exporter
from jindu.core.indicators import Period
from jindu.core.masking import mask
from jindu.inspections import rates
from jindu.inspections.models import CourierOutlet, Patrol, Venue
from jindu.inspections.periods import RollUp
from jindu.inspections.selectors import COLOUR_MEANING, Colour, LetterState, latest_inspections

BATCH = 500


def _township_names(townships: Sequence[Any]) -> tuple[RollUp, dict[str, str]]:
    return RollUp([t.path for t in townships]), {t.path: t.name for t in townships}


class VenueExporter(Exporter):
    title = "重点场所"
    columns = (
        Column("乡镇", 12),
        Column("村（社区）", 14),
        Column("场所名称", 24),
        Column("类别", 10),
        Column("经营地址", 30),
        Column("经营业主", 10),
        Column("联系电话", 14),
        Column("许可证号", 18),
        Column("颜色", 8),
        Column("说明", 18),
        Column("最近检查", 12),
        Column("最近检查结果", 10),
        Column("整改期限", 12),
        Column("逾期未整改", 10),
        Column("责任书期限至", 12),
        Column("责任书状态", 10),
    )

    def __init__(self, venues: QuerySet[Venue], townships: Sequence[Any], period: Period) -> None:
        self.venues = venues
        self.roll, self.names = _township_names(townships)
        self.title = f"重点场所（{period.label}）"

    def rows(self) -> Iterable[Sequence[Any]]:
        kinds = registry.labels("venue_kind")
        letters = dict(LetterState.choices)
        batch: list[Venue] = []

        def flush() -> Iterable[Sequence[Any]]:
            latest = latest_inspections([v.pk for v in batch])
            for venue in batch:
                last = latest.get(venue.pk)
                township = self.names.get(self.roll.owner(venue.org_path) or "", "")
                colour = Colour(venue.colour)
                yield (
                    township,
                    venue.org_unit.name if venue.org_unit.name != township else "",
                    venue.name,
                    kinds.get(venue.kind, venue.kind),
                    venue.address,
                    venue.operator_name,
                    mask("phone", venue.operator_phone),
                    venue.licence_number,
                    colour.label,
                    COLOUR_MEANING[colour],
                    venue.last_inspected_on,
                    ("合格" if last.passed else "不合格") if last else "",
                    last.fix_deadline if last and not last.passed else None,
                    venue.overdue,
                    venue.letter_until,
                    letters.get(venue.letter_state, ""),
                )

        for venue in self.venues.iterator(chunk_size=BATCH):
            batch.append(venue)
            if len(batch) >= BATCH:
                yield from flush()
                batch = []
        if batch:
            yield from flush()


class CourierExporter(Exporter):
    title = "寄递渠道检查"

    def __init__(
        self,
        outlets: Sequence[CourierOutlet],
        compliance: dict[int, rates.Compliance],
        townships: Sequence[Any],
        period: Period,
    ) -> None:
        self.outlets = outlets
        self.compliance = compliance
        self.roll, self.names = _township_names(townships)
        self.title = f"寄递渠道检查（{period.label}）"
        columns = [
            Column("乡镇", 12),
            Column("网点名称", 24),
            Column("类别", 10),
            Column("企业/品牌", 12),
            Column("地址", 30),
            Column("负责人电话", 14),
            Column("检查次数", 8),
        ]
        for _rule, label in rates.RULE_LABELS.items():
            columns += [
                Column(f"{label}抽查", 10),
                Column(f"{label}合规", 10),
                Column(f"{label}率%", 10),
            ]
        self.columns = tuple(columns)

    def rows(self) -> Iterable[Sequence[Any]]:
        kinds = registry.labels("courier_kind")
        for outlet in self.outlets:
            found = self.compliance.get(outlet.pk) or rates.Compliance()
            row: list[Any] = [
                self.names.get(self.roll.owner(outlet.org_path) or "", ""),
                outlet.name,
                kinds.get(outlet.kind, outlet.kind),
                outlet.company,
                outlet.address,
                mask("phone", outlet.contact_phone),
                found.inspections,
            ]
            for rule in rates.RULE_KEYS:
                value = found.rate(rule)
                row += [
                    found.sampled(rule),
                    found.complied(rule),
                    float(round(value, 1)) if value is not None else "",
                ]
            yield row


class PatrolExporter(Exporter):
    title = "禁种铲毒踏查"
    columns = (
        Column("踏查日期", 12),
        Column("乡镇", 12),
        Column("村（社区）", 14),
        Column("层级", 10),
        Column("地类", 10),
        Column("地点", 24),
        Column("踏查人员", 24),
        Column("里程（公里）", 10),
        Column("面积（亩）", 10),
        Column("发现（株）", 10),
        Column("铲除（株）", 10),
        Column("植物种类", 12),
        Column("纬度", 11),
        Column("经度", 11),
        Column("照片", 6),
        Column("备注", 30),
    )

    def __init__(self, patrols: QuerySet[Patrol], townships: Sequence[Any], label: str) -> None:
        self.patrols = patrols
        self.roll, self.names = _township_names(townships)
        self.title = f"禁种铲毒踏查（{label}）"

    def rows(self) -> Iterable[Sequence[Any]]:
        lands = registry.labels("land_kind")
        plants = registry.labels("illicit_plant")
        for patrol in self.patrols:
            township = self.names.get(self.roll.owner(patrol.org_path) or "", "")
            yield (
                patrol.patrolled_on,
                township,
                patrol.org_unit.name if patrol.org_unit.name != township else "",
                patrol.get_check_level_display(),
                lands.get(patrol.land_kind, patrol.land_kind),
                patrol.place,
                patrol.team,
                float(patrol.distance_km) if patrol.distance_km is not None else None,
                float(patrol.area_mu) if patrol.area_mu is not None else None,
                patrol.plants_found,
                patrol.plants_destroyed,
                "、".join(plants.get(c, c) for c in patrol.plant_species or []),
                float(patrol.latitude) if patrol.latitude is not None else None,
                float(patrol.longitude) if patrol.longitude is not None else None,
                patrol.photo_count,
                patrol.notes,
            )
