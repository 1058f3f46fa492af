"""Regulated units, licences and ledgers for the regulation tests, written through the
services as the pages write them. (Helpers only; the tests are in the other
``test_regulation_*`` modules.)"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from jindu.regulation import ledger, services
from jindu.regulation.models import LedgerEntry, RegulatedUnit, Substance

_counter = {"n": 0}


def substance(name: str) -> Substance:
    return Substance.objects.get(name=name)


def today() -> date:
    return timezone.localdate()


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def make_unit(
    actor: Any,
    place: Any,
    department: Any,
    *,
    name: str | None = None,
    kind: str = "trader",
    registered_on: date | None = None,
    items: dict[str, Any] | None = None,
    licence_until: date | None = None,
    licence_from: date | None = None,
) -> RegulatedUnit:
    """A unit with one licence and the items it may handle (name → yearly quantity or None)."""
    _counter["n"] += 1
    registered = registered_on or days_ago(400)
    unit = services.register_unit(
        actor=actor,
        name=name or f"测试化工{_counter['n']}有限公司",
        kind=kind,
        department=department,
        org_unit=place,
        registered_on=registered,
    )
    services.add_licence(
        actor=actor,
        unit=unit,
        kind="precursor_trade",
        number=f"XK-{_counter['n']:04d}",
        valid_from=licence_from or registered,
        valid_until=licence_until or today() + timedelta(days=700),
    )
    for item_name, yearly in (items or {"丙酮": None}).items():
        services.set_allowance(
            actor=actor,
            unit=unit,
            substance=substance(item_name),
            yearly_quantity=Decimal(str(yearly)) if yearly is not None else None,
        )
    return unit


def line(
    actor: Any,
    unit: RegulatedUnit,
    item: str,
    kind: str,
    day: date,
    quantity: Any,
    *,
    measure: str | None = None,
    counterparty: str = "",
    reported_on: date | None = None,
    document_no: str = "",
) -> LedgerEntry:
    thing = substance(item)
    if kind in ("purchase", "sale", "transfer_in", "transfer_out") and not counterparty:
        counterparty = "外县某贸易公司"
    return ledger.record_entry(
        actor=actor,
        line=ledger.LineInput(
            unit=unit,
            substance=thing,
            kind=kind,
            occurred_on=day,
            quantity=str(quantity),
            measure_unit=measure or thing.unit,
            counterparty=counterparty,
            reported_on=reported_on,
            document_no=document_no,
        ),
    )
