from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "jindu.inspections"
    label = "inspections"
    verbose_name = _("重点场所、寄递渠道与禁种铲毒")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.demo.steps import register_step
        from jindu.inspections.demo import demo_inspections
        from jindu.inspections.indicators import register_all
        from jindu.portal.navigation import register

        register("regulation", _("重点场所"), "inspections:venues", Perm.DASHBOARD_VIEW, "shop")
        register(
            "regulation", _("寄递渠道"), "inspections:courier", Perm.DASHBOARD_VIEW, "box-seam"
        )
        register("regulation", _("禁种铲毒"), "inspections:patrols", Perm.DASHBOARD_VIEW, "tree")
        register("regulation", _("检查规则"), "inspections:rules", Perm.INSPECTION_RULES, "sliders")
        register_all()
        register_step("inspections", demo_inspections, order=250)
