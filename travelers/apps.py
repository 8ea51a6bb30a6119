from django.apps import AppConfig

from .errors import TravelerError


class TravelersConfig(AppConfig):
    name = "travelers"
    verbose_name = "Travelers"

    def ready(self) -> None:
        from . import content, integrity  # noqa: PLC0415 — app loading: they import the models

        content.register()  # teaches the signature verifier how to rebuild signed travelers' content
        integrity.register()  # and the records verifier how to check traveler records in batches

        from mes.api import map_errors, mount  # noqa: PLC0415 — app loading: mes.api imports auth's User model

        from .api import router  # noqa: PLC0415 — app loading: the API imports the models

        mount("/", router)
        map_errors(TravelerError)
