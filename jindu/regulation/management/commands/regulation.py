"""``jindu regulation remind | reconcile``: the daily jobs of regulation.

``remind`` tells the responsible departments of licences entering the warning
window (run it daily; a licence is announced once). ``reconcile`` runs the
reconciliation of every ledger for a year, as the county office's page does.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from jindu.core.indicators import Period


class Command(BaseCommand):
    help = "禁毒监管：证件到期提醒（remind）、台账核对（reconcile）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="remind|reconcile")
        sub.add_parser("remind", help=_("向监管部门发送证件即将到期提醒（每天运行，不会重复提醒）"))
        reconcile = sub.add_parser("reconcile", help=_("核对全部单位某一年的台账，生成核对问题"))
        reconcile.add_argument("--year", type=int, default=None, help=_("年份（默认今年）"))

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        getattr(self, f"handle_{subcommand}")(**options)

    def handle_remind(self, **options: Any) -> None:
        from jindu.regulation.reminders import remind_expiring_licences

        counts = remind_expiring_licences()
        self.stdout.write(
            _("即将到期证件 %(expiring)d 个，本次提醒 %(notified)d 个，此前已提醒 %(already)d 个")
            % counts
        )

    def handle_reconcile(self, *, year: int | None, **options: Any) -> None:
        from jindu.regulation import reconcile
        from jindu.regulation.models import RegulatedUnit

        year = year or timezone.localdate().year
        if not 2000 <= year <= timezone.localdate().year:
            raise CommandError(_("年份不正确：%(year)s") % {"year": year})
        result = reconcile.run(
            actor=None, units=RegulatedUnit.objects.all(), period=Period.year(year)
        )
        self.stdout.write(
            _("%(period)s：发现问题 %(total)d 个，新增 %(created)d 个，更新 %(updated)d 个")
            % {
                "period": result.period.label,
                "total": result.total,
                "created": result.created,
                "updated": result.updated,
            }
        )
