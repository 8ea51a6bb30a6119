"""Two-person rules a plant expects, configurable per site (Site.cosign_corrections, Site.mrb_dispositions):

- correcting a value that was out of spec, or any value once a nonconformance of the traveler has been
  dispositioned, needs an inspector's co-signature beside the corrector's;
- a "use as is" or "repair" disposition needs a material review board: the quality signature of whoever
  dispositions, and an engineering signature.

A co-signer is physically there: they give their user id and their password or PIN (both components,
every time); a wrong secret is counted against them, as any signing is."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils.translation import gettext

from mes.compliance.errors import SignatureRefused
from mes.compliance.signing import SigningAuthority, signing_authenticate
from travelers.errors import NotAuthorized
from travelers.models import Measurement, Nonconformance, Traveler
from travelers.selectors.station import profile_by_badge

USE_AS_IS_OR_REPAIR = (Nonconformance.Disposition.USE_AS_IS, Nonconformance.Disposition.REPAIR)


def cosigner_authenticate(*, username: str | None, secret: str | None, field: str) -> SigningAuthority | None:
    """The co-signer's authority (None when no co-signer was given); `username` is their user id or badge
    number. `field` names the input in errors."""
    username, secret = (username or "").strip(), secret or ""
    if not username and not secret:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
    if user is None and username:  # the badge stands for the user id, as at the signed-in user's signing
        profile = profile_by_badge(username)
        user = profile.user if profile is not None and profile.user.is_active else None
    if user is None:
        raise SignatureRefused(
            gettext("there is no active user %(username)s to co-sign") % {"username": repr(username)},
            field=f"{field}_username",
        )
    return signing_authenticate(user=user, secret=secret, username=user.get_username())


def correction_needs_cosign(traveler: Traveler, original: Measurement) -> bool:
    if not traveler.site.cosign_corrections:
        return False
    if original.judgment == Measurement.Judgment.OUT_OF_SPEC:
        return True
    return traveler.ncrs.filter(dispositioned_at__isnull=False).exists()


def disposition_needs_mrb(traveler: Traveler, disposition: str) -> bool:
    return traveler.site.mrb_dispositions and disposition in USE_AS_IS_OR_REPAIR


def check_cosigner(
    authority: SigningAuthority | None, *, actor: User, perm: str, who: str, field: str, why: str
) -> SigningAuthority:
    """The co-signer's authority when it is there, entitled, and someone other than `actor`."""
    if authority is None:
        raise SignatureRefused(
            gettext("%(why)s: %(who)s co-signs with their user id and password or PIN") % {"why": why, "who": who},
            field=field,
        )
    cosigner = authority.user
    if cosigner.pk == actor.pk:
        raise SignatureRefused(gettext("%(who)s must be someone else than you") % {"who": who}, field=field)
    if not cosigner.has_perm(perm):
        raise NotAuthorized(
            gettext("%(username)s may not co-sign as %(who)s") % {"username": cosigner.get_username(), "who": who},
            field=field,
        )
    return authority
