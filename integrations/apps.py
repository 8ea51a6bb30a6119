from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from mes.api import mount

        from .api import router, schemas_router

        mount("/integrations/", router)
        mount("/schemas/", schemas_router)
