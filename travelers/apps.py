from django.apps import AppConfig


class TravelersConfig(AppConfig):
    name = "travelers"
    verbose_name = "Travelers"

    def ready(self) -> None:
        from . import content, integrity

        content.register()  # teaches the signature verifier how to rebuild signed travelers' content
        integrity.register()  # and the records verifier how to check traveler records in batches

        from mes.api import map_errors, mount

        from .api import router
        from .errors import TravelerError

        mount("/", router)
        map_errors(TravelerError)
