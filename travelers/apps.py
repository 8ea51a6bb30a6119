from django.apps import AppConfig


class TravelersConfig(AppConfig):
    name = "travelers"
    verbose_name = "Travelers"
