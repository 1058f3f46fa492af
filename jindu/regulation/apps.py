from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegulationConfig(AppConfig):
    name = "jindu.regulation"
    label = "regulation"
    verbose_name = _("禁毒监管：易制毒化学品和精麻药品")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from jindu.core.roles import Perm
        from jindu.demo.steps import register_step
        from jindu.portal.navigation import register
        from jindu.regulation import importer  # noqa: F401  (registers `jindu import ledger`)
        from jindu.regulation.catalogue import after_migrate
        from jindu.regulation.demo import demo_regulation
        from jindu.regulation.indicators import register_all

        post_migrate.connect(after_migrate, sender=self, dispatch_uid="jindu_regulation_catalogue")
        register_all()
        register_step("regulation", demo_regulation, order=300)
        for label, url_name, perm, icon in (
            (_("监管单位"), "regulation:units", Perm.DASHBOARD_VIEW, "buildings"),
            (_("台账核对"), "regulation:reconcile", Perm.DASHBOARD_VIEW, "calculator"),
            (_("核对问题"), "regulation:findings", Perm.DASHBOARD_VIEW, "exclamation-diamond"),
            (_("专项核对检查"), "regulation:campaigns", Perm.DASHBOARD_VIEW, "clipboard-check"),
            (_("易制毒及精麻目录"), "regulation:catalogue", Perm.DASHBOARD_VIEW, "list-ul"),
            (_("监管规则"), "regulation:policy", Perm.REGULATION_POLICY, "sliders"),
        ):
            register("regulation", label, url_name, perm, icon)
        # The system administrator keeps the catalogue, as they keep the code lists.
        register(
            "system", _("易制毒及精麻目录"), "regulation:catalogue", Perm.CODES_MANAGE, "list-ul"
        )
