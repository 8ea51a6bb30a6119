"""Photos and files at a step or on an NCR: allowed types only, size-limited, stored under SHA-256."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from travelers.content import attachment_content
from travelers.errors import AttachmentRefused
from travelers.models import Attachment, Nonconformance, Traveler, TravelerStep
from travelers.states import DONE_STEP_STATES

from .common import audit, bump, clock, ensure_not_held, ensure_open, lock_step, require_perm

# Content types we accept, each with the leading bytes its files must start with.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "text/plain": (),
    "text/csv": (),
}


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", 15 * 1024 * 1024))


@transaction.atomic
def attachment_add(
    *,
    step: TravelerStep,
    filename: str,
    content: bytes,
    content_type: str,
    actor: User,
    ncr: Nonconformance | None = None,
) -> Attachment:
    traveler, step = lock_step(step.pk)
    require_perm(actor, "raise_ncr" if ncr is not None else "perform_step", "attach files")
    if ncr is None:  # evidence of the work: only while the step is being done
        ensure_not_held(traveler)
        if step.status in DONE_STEP_STATES:
            raise AttachmentRefused(
                gettext("step %(sequence)s is %(status)s: its record is signed and closed")
                % {"sequence": step.sequence, "status": step.get_status_display().lower()},
                field="step",
            )
    else:  # evidence of a nonconformance: while the traveler is open, held or not
        ensure_open(traveler)
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in SIGNATURES:
        raise AttachmentRefused(
            gettext("%(value)s is not accepted: use JPEG, PNG, WebP, PDF, text or CSV")
            % {"value": content_type or "this file type"},
            field="file",
        )
    if not content:
        raise AttachmentRefused(gettext("the file is empty"), field="file")
    if len(content) > max_bytes():
        raise AttachmentRefused(
            gettext("the file is %(value)s MiB; the limit is %(value2)s MiB")
            % {"value": format(len(content) / 2**20, ".1f"), "value2": max_bytes() // 2**20},
            field="file",
        )
    magic = SIGNATURES[content_type]
    if magic and not any(content.startswith(m) for m in magic):
        raise AttachmentRefused(
            gettext("the file does not look like %(content_type)s") % {"content_type": content_type}, field="file"
        )
    if ncr is not None and ncr.traveler_id != traveler.pk:
        raise AttachmentRefused(gettext("that NCR belongs to another traveler"), field="ncr")
    name = (filename or "upload").replace("/", "_").replace("\\", "_")[-120:]
    digest = hashlib.sha256(content).hexdigest()
    attachment = Attachment(
        step=step,
        ncr=ncr,
        filename=name,
        content_type=content_type,
        size=len(content),
        sha256=digest,
        uploaded_at=clock(traveler),
        uploaded_by=actor,
    )
    attachment.file.save(name, ContentFile(content), save=False)  # a new file: the storage never overwrites
    try:
        return _attachment_recorded(attachment, traveler, step, actor, name, digest, len(content))
    except BaseException:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)  # no row, no file
        raise


def _attachment_recorded(
    attachment: Attachment, traveler: Traveler, step: TravelerStep, actor: User, name: str, digest: str, size: int
) -> Attachment:
    attachment.save()
    bump(traveler, step=None if step.status in DONE_STEP_STATES else step)
    audit(
        traveler,
        action="attachment.added",
        obj=attachment,
        actor=actor,
        changes={"file": [None, name], "sha256": [None, digest], "size": [None, size]},
        state=attachment_content(attachment),
    )
    return attachment
