from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "jindu.dashboards"
    label = "dashboards"
    verbose_name = _("禁毒态势")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.portal.navigation import register

        register(
            "monitoring", _("禁毒态势"), "dashboards:county", Perm.DASHBOARD_VIEW, "speedometer2"
        )
        register("monitoring", _("领导大屏"), "dashboards:screen", Perm.DASHBOARD_VIEW, "display")
