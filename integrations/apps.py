from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from mes.api import mount  # noqa: PLC0415 — app loading: the routers import models, ready() runs once they exist

        from .api import router, schemas_router  # noqa: PLC0415 — app loading: the API imports models

        mount("/integrations/", router)
        mount("/schemas/", schemas_router)
