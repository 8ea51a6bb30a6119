from django.apps import AppConfig


class MesConfig(AppConfig):
    name = "mes"
    verbose_name = "Traveler"

    def ready(self) -> None:
        from . import i18n  # noqa: F401 - connects the sign-in hook that keeps the person's language
