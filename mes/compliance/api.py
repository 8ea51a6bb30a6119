"""The JSON API of people's own credentials and of unlocking signers (mounted by the app's ready()):

POST /api/account/password           {current_password, new_password}
POST /api/account/pin                {current_password, new_pin}
POST /api/signers/{username}/unlock  {reason, secret, username?}   (supervisors, administrators)

The same services as the screens (mes.compliance.credentials); errors are the API's JSON errors."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from pydantic import Field

from mes.api import ApiRequest, signing_session_key

from . import credentials, unlocking

router = Router(tags=["account"])


class PasswordIn(Schema):
    current_password: str = Field(max_length=128)
    new_password: str = Field(max_length=128)


class PinIn(Schema):
    current_password: str = Field(max_length=128)
    new_pin: str = Field(max_length=12)


class UnlockIn(Schema):
    reason: str = Field(max_length=1000)
    secret: str = Field(max_length=128, description="Your password or signing PIN.")
    username: str | None = Field(None, max_length=150, description="Your user id (a token always gives it).")


class Done(Schema):
    ok: bool = True
    message: str


@router.post("/account/password", response=Done, summary="Change my password")
def password_change(request: ApiRequest, payload: PasswordIn) -> Done:
    credentials.password_change(
        user=request.auth, current_password=payload.current_password, new_password=payload.new_password
    )
    return Done(message="your password is changed")


@router.post("/account/pin", response=Done, summary="Choose my signing PIN")
def pin_set(request: ApiRequest, payload: PinIn) -> Done:
    credentials.signing_pin_set(user=request.auth, current_password=payload.current_password, new_pin=payload.new_pin)
    return Done(message="your signing PIN is set")


@router.post("/signers/{username}/unlock", response=Done, summary="Unlock a signer (reason and your signature)")
def signer_unlock(request: ApiRequest, username: str, payload: UnlockIn) -> Done:
    user = get_object_or_404(get_user_model(), username=username)
    unlock = unlocking.signing_unlock(
        user=user,
        actor=request.auth,
        secret=payload.secret,
        reason=payload.reason,
        username=payload.username,
        session_key=signing_session_key(request),
    )
    return Done(message=f"{unlock.username} can sign again; signed {unlock.signature.manifestation}")
