from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _harden_after_migrate(sender, using=None, **kwargs) -> None:
    if sender.label == "compliance":  # once per migrate, whatever the apps migrated
        from .guards import harden_bypass

        harden_bypass(using)


class ComplianceConfig(AppConfig):
    name = "mes.compliance"
    label = "compliance"
    verbose_name = "Compliance (roles, signatures, audit trail)"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .roles import sync_after_migrate

        # Groups need the permissions Django creates after migrating, hence post_migrate.
        post_migrate.connect(sync_after_migrate, dispatch_uid="compliance.roles_sync")
        # Trigger migrations re-open pgtrigger's per-session bypass; close it again after each migrate.
        post_migrate.connect(_harden_after_migrate, dispatch_uid="compliance.guards_harden")
