from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jindu.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from jindu.core import paths  # noqa: F401  (registers the subtree lookup)
