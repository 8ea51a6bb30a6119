from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "mes.events"
    label = "events"
    verbose_name = "Events (outbox)"
