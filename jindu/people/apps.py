from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "jindu.people"
    label = "people"
    verbose_name = "戒毒管控"

    def ready(self) -> None:
        from jindu.core.roles import Perm
        from jindu.people import demo, importer, tallies  # noqa: F401  (importer: the sheet `jindu import` reads)
        from jindu.portal.navigation import register

        register("rehab", _("人员名册"), "people:list", Perm.PERSONAL_DATA, "person-vcard")
        register("rehab", _("我的人员"), "people:my_people", Perm.PERSONAL_DATA, "person-check")
        register("rehab", _("逾期及需关注"), "people:overdue", Perm.PERSONAL_DATA, "alarm")
        register(
            "rehab", _("帮教小组不齐全"), "people:teams_incomplete", Perm.PERSONAL_DATA, "people"
        )
        register("rehab", _("人员移交"), "people:transfers", Perm.PERSONAL_DATA, "arrow-left-right")
        register("rehab", _("外流吸毒贩毒"), "people:outflow_list", Perm.PERSONAL_DATA, "geo-alt")
        register("rehab", _("导入人员名册"), "people:import", Perm.RECORD_WRITE, "upload")
        register("rehab", _("社区戒毒康复规则"), "people:policy", Perm.FOLLOWUP_POLICY, "sliders")
        demo.register()
        tallies.register()
