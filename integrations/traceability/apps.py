from django.apps import AppConfig


class TraceabilityConfig(AppConfig):
    """An app only for its management commands, its index migration and its static file: no models."""

    name = "integrations.traceability"
    label = "traceability"
    verbose_name = "Traceability search"
