from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "jindu.people"
    label = "people"
    verbose_name = "戒毒管控"
