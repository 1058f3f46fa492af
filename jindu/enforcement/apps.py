from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    name = "jindu.enforcement"
    label = "enforcement"
    verbose_name = _("缉毒打击")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.demo.steps import register_step
        from jindu.enforcement import importer  # noqa: F401  (registers `jindu import cases`)
        from jindu.enforcement.demo import demo_enforcement
        from jindu.enforcement.indicators import register_all
        from jindu.portal.navigation import register

        register_all()
        # After the people (200): users caught are linked to people already on the register.
        register_step("enforcement", demo_enforcement, order=320)
        for label, url_name, perm, icon in (
            (_("涉毒案件"), "enforcement:cases", Perm.DASHBOARD_VIEW, "folder2-open"),
            (_("缴获毒品"), "enforcement:seizures", Perm.DASHBOARD_VIEW, "box2"),
            (_("查处吸毒人员"), "enforcement:caught", Perm.PERSONAL_DATA, "person-exclamation"),
            (_("毒驾检测"), "enforcement:driving", Perm.PERSONAL_DATA, "car-front"),
        ):
            register("enforcement", label, url_name, perm, icon)
