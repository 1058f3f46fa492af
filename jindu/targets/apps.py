from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "jindu.targets"
    label = "targets"
    verbose_name = _("目标任务")

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.demo.steps import register_step
        from jindu.people.indicators import register_all as register_people
        from jindu.portal.navigation import register
        from jindu.targets.demo import demo_targets
        from jindu.targets.reporting import register_all as register_reported

        # The people-based indicators are registered here, so that the people app
        # need not know about the registry's consumers.
        register_people()
        register_reported()
        # After the people (200), before enforcement (320), whose users caught link
        # to people on the register: see ``jindu.targets.demo``.
        register_step("targets", demo_targets, order=250)
        for label, url_name, perm, icon in (
            (_("目标任务完成情况"), "targets:list", Perm.DASHBOARD_VIEW, "bullseye"),
            (_("四升四降"), "targets:board", Perm.DASHBOARD_VIEW, "arrow-down-up"),
            (_("填报指标"), "targets:reported", Perm.DASHBOARD_VIEW, "pencil-square"),
            (_("责任书"), "targets:letters", Perm.DASHBOARD_VIEW, "file-earmark-text"),
            (_("重点整治乡镇"), "targets:key_townships", Perm.DASHBOARD_VIEW, "flag"),
        ):
            register("targets", label, url_name, perm, icon)
