"""Reminders of licences about to expire, sent to the responsible department's users.

``jindu regulation remind`` runs this daily. A licence is announced once when it
enters the warning window: the notification's ``source`` names the licence and
its expiry date, so a second run the same day (or the next) sends nothing new,
while a renewed licence (a new date) is announced again when its turn comes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.core.roles import EVERYDAY_ROLES
from jindu.notifications.models import Notification
from jindu.notifications.services import notify
from jindu.regulation.models import Licence, RegulationPolicy


def licence_source(licence: Licence) -> str:
    return f"regulation.Licence:{licence.pk}:{licence.valid_until:%Y%m%d}"


@transaction.atomic
def remind_expiring_licences(*, today: date | None = None) -> dict[str, int]:
    """Tell each responsible department's users of the licences entering the window."""
    from jindu.accounts.models import User

    today = today or timezone.localdate()
    horizon = today + timedelta(days=RegulationPolicy.current().licence_warning_days)
    licences = list(
        Licence.objects.filter(
            valid_until__gte=today, valid_until__lte=horizon, unit__closed_on__isnull=True
        ).select_related("unit")
    )
    sent = set(
        Notification.objects.filter(
            source__in=[licence_source(lic) for lic in licences]
        ).values_list("source", flat=True)
    )
    due = [lic for lic in licences if licence_source(lic) not in sent]
    readers: dict[int, list[Any]] = defaultdict(list)
    for user in (
        User.objects.filter(
            is_active=True,
            department_id__in={lic.unit.department_id for lic in due},
            role_grants__role__in=[role.value for role in EVERYDAY_ROLES],
        )
        .select_related("org_unit")
        .distinct()
    ):
        readers[user.department_id].append(user)
    notified = 0
    for licence in due:
        unit = licence.unit
        # Only users whose scope holds the unit: anyone else would find the link a 404.
        recipients = [
            u for u in readers[unit.department_id] if unit.org_path.startswith(u.org_unit.path)
        ]
        if not recipients:
            continue
        days = (licence.valid_until - today).days
        notify(
            recipients=recipients,
            title=_("%(unit)s的证件%(number)s将于%(until)s到期（还有%(days)d天）")
            % {
                "unit": unit.name,
                "number": licence.number,
                "until": licence.valid_until,
                "days": days,
            },
            body=_("请督促该单位在到期前办理延续，到期后不得再购买或销售。"),
            link=reverse("regulation:unit", args=[unit.pk]),
            level=Notification.Level.WARNING,
            source=licence_source(licence),
        )
        notified += 1
    return {"expiring": len(licences), "notified": notified, "already": len(sent)}
