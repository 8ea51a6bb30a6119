from django.apps import AppConfig


class TraceabilityConfig(AppConfig):
    """An app for its management commands, its index migration, its static file and its API router."""

    name = "integrations.traceability"
    label = "traceability"
    verbose_name = "Traceability search"

    def ready(self) -> None:
        from mes.api import mount

        from .api import router

        mount("/trace/", router)
