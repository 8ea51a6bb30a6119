from django.apps import AppConfig


class TraceabilityConfig(AppConfig):
    """An app for its management commands, its index migration, its static file and its API router."""

    name = "integrations.traceability"
    label = "traceability"
    verbose_name = "Traceability search"

    def ready(self) -> None:
        from mes.api import mount  # noqa: PLC0415 — app loading: the routers import models, ready() runs once they exist

        from .api import router  # noqa: PLC0415 — app loading: the API imports models

        mount("/trace/", router)
