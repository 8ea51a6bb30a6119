from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_migrate

from .guards import harden_bypass


def _login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    from .credentials import login_failure_record  # noqa: PLC0415 — app loading: apps.py is imported before the models

    login_failure_record(username=(credentials or {}).get("username", ""), where=getattr(request, "path", ""))


def _locked_out(sender, request=None, username=None, **kwargs) -> None:
    from .credentials import login_failure_record  # noqa: PLC0415 — app loading: apps.py is imported before the models

    login_failure_record(username=username or "", where=getattr(request, "path", ""), locked=True)


def _harden_after_migrate(sender, using=None, **kwargs) -> None:
    if sender.label == "compliance":  # once per migrate, whatever the apps migrated
        harden_bypass(using)


class ComplianceConfig(AppConfig):
    name = "mes.compliance"
    label = "compliance"
    verbose_name = "Compliance (roles, signatures, audit trail)"

    def ready(self) -> None:
        from mes.api import mount  # noqa: PLC0415 — ready(): needs the app registry (the API's schemas name models)

        from . import checks  # noqa: F401, PLC0415 — registers the system checks, once the registry is ready
        from .api import router  # noqa: PLC0415 — ready(): needs the app registry
        from .signing import register_signable  # noqa: PLC0415 — ready(): needs the app registry
        from .unlocking import unlock_signed_content  # noqa: PLC0415 — ready(): needs the app registry

        mount("/", router)
        register_signable("compliance.signingunlock", unlock_signed_content)
        from .reviews import review_signed_content  # noqa: PLC0415 — ready(): needs the app registry

        register_signable("compliance.auditreview", review_signed_content)
        from .config_seal import check_config  # noqa: PLC0415 — ready(): needs the app registry
        from .verify import register_records_check  # noqa: PLC0415 — ready(): needs the app registry

        register_records_check("config", check_config)  # configuration history: captured = sealed
        from .roles import sync_after_migrate  # noqa: PLC0415 — ready(): needs the app registry

        # Groups need the permissions Django creates after migrating, hence post_migrate.
        post_migrate.connect(sync_after_migrate, dispatch_uid="compliance.roles_sync")
        # Trigger migrations re-open pgtrigger's per-session bypass; close it again after each migrate.
        post_migrate.connect(_harden_after_migrate, dispatch_uid="compliance.guards_harden")
        # Failed logins and lockouts (Django's and django-axes' signals) go into the audit trail.
        from axes.signals import user_locked_out  # noqa: PLC0415 — ready(): needs the app registry (axes' signals module loads its models)

        user_login_failed.connect(_login_failed, dispatch_uid="compliance.login_failed")
        user_locked_out.connect(_locked_out, dispatch_uid="compliance.locked_out")
