from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "jindu.audit"
    label = "audit"
    verbose_name = _("审计")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.portal.navigation import register

        register("system", _("审计日志"), "audit:list", Perm.AUDIT_READ, "journal-text")
