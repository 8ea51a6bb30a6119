from django.apps import AppConfig


class MesConfig(AppConfig):
    name = "mes"
    verbose_name = "Traveler"

    def ready(self) -> None:
        from . import i18n  # noqa: F401, PLC0415 — connects the sign-in hook (keeps the person's language); reads models
