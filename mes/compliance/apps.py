from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "mes.compliance"
    label = "compliance"
    verbose_name = "Compliance (roles, signatures, audit trail)"

    def ready(self) -> None:
        from .roles import sync_after_migrate

        # Groups need the permissions Django creates after migrating, hence post_migrate.
        post_migrate.connect(sync_after_migrate, dispatch_uid="compliance.roles_sync")
