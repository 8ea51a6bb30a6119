from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    name = "mes.masterdata"
    label = "masterdata"
    verbose_name = "Master data"

    def ready(self) -> None:
        from mes.compliance.signing import register_signable  # noqa: PLC0415 — ready(): needs the app registry

        from .change_control import change_signed_content  # noqa: PLC0415 — ready(): needs the app registry

        register_signable("masterdata.routingchange", change_signed_content)
