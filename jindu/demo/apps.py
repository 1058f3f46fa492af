from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jindu.demo"
    label = "demo"
    verbose_name = "演示数据"

    def ready(self) -> None:
        from jindu.demo import builtin_steps

        builtin_steps.register()
