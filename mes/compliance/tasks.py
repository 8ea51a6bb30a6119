"""Celery tasks of record integrity: thin, idempotent, calling the services.

integrity_checkpoint()   beat, every INTEGRITY_CHECKPOINT_SECONDS: the heads that moved, to the data lake
integrity_verify()       beat, daily: the whole verifier; a finding raises the alert (mes.compliance.alerts)
config_history_seal()    beat, every minute: captured configuration changes into the audit chain "config"
"""

from __future__ import annotations

from celery import shared_task

from .alerts import integrity_check_run
from .checkpoints import checkpoint_write
from .config_seal import config_seal_all


@shared_task(acks_late=True, autoretry_for=(OSError, ConnectionError), retry_backoff=30, max_retries=10)
def integrity_checkpoint() -> int | None:
    config_seal_all()  # what was changed before the checkpoint is in it
    checkpoint = checkpoint_write()
    return checkpoint.number if checkpoint else None


@shared_task(acks_late=True)
def integrity_verify() -> dict:
    config_seal_all()
    run = integrity_check_run()
    return {"run": run.pk, "ok": run.ok, "problems": run.problem_count}


@shared_task(acks_late=True)
def config_history_seal() -> int:
    return config_seal_all()
