"""The routing document's structure, schema version 1 (pydantic, strict types, no unknown or missing
keys), and its structural check. Decimals travel as JSON strings, exact and never in exponent notation."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from mes.numbers import decimal_text

from ..errors import DocumentInvalid
from ..models import (
    Characteristic,
    Part,
    RoutingStep,
    code_validator,
)
from ..states import RoutingStatus

SCHEMA = "traveler.routing"
SCHEMA_VERSION = 1

_MAX_POSITIVE_INT = 2_147_483_647  # PositiveIntegerField on PostgreSQL
_MAX_SMALL_INT = 32_767  # PositiveSmallIntegerField
_DECIMAL_PLACES = 6  # Characteristic limits: DecimalField(max_digits=18, decimal_places=6)
_INTEGER_DIGITS = 12
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


# --- Decimals as text -------------------------------------------------------------------------------


def _decimal_text(value: Any) -> str:
    """Pydantic check of a decimal field: a JSON string holding a plain decimal number; normalized."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "decimal_type", f'a decimal is written as a JSON string such as "12.5", not as {json_kind(value)}'
        )
    text = value.strip()
    if not _DECIMAL_TEXT.fullmatch(text):
        raise PydanticCustomError("decimal_parsing", f"'{value}' is not a decimal number; write it like \"12.687\"")
    number = Decimal(text)
    if number != number.quantize(Decimal(1).scaleb(-_DECIMAL_PLACES)):
        raise PydanticCustomError("decimal_places", f"'{value}' has more than {_DECIMAL_PLACES} decimal places")
    if abs(number) >= Decimal(10) ** _INTEGER_DIGITS:
        raise PydanticCustomError(
            "decimal_too_large", f"'{value}' is too large: at most {_INTEGER_DIGITS} digits before the point"
        )
    return decimal_text(number)


def json_kind(value: Any) -> str:
    """How a refused JSON value is named in a message: 'a JSON number', 'a list', …"""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return type(value).__name__


def _code(value: str) -> str:
    try:
        code_validator(value)
    except DjangoValidationError as exc:
        raise PydanticCustomError("code_pattern", f"'{value}' is not a valid code: {code_validator.message}") from exc
    return value


def normalized_unit(value: str | None) -> str | None:
    """A unit as documents carry it: stripped, None when there is none."""
    return (value or "").strip() or None


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("blank", "must not be blank")
    return value


DecimalText = Annotated[str, BeforeValidator(_decimal_text)]


def _code_field(max_length: int):
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_code)]


def _name_field(max_length: int):
    return Annotated[str, Field(min_length=1, max_length=max_length)]


def _text_field(max_length: int | None = None):
    return Annotated[str, Field(max_length=max_length)]


def _choices(model_choices) -> Any:
    return Literal[tuple(model_choices.values)]


# --- The document's structure (schema version 1) ----------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PartDoc(_Strict):
    number: _code_field(40)
    name: _name_field(160)
    tracking: _choices(Part.Tracking)
    customer: _text_field(120)
    description: _text_field()


class PartRevisionDoc(_Strict):
    revision: _name_field(10)
    description: _text_field(200)
    drawing_number: _text_field(60)


class RoutingDoc(_Strict):
    revision: Annotated[int, Field(ge=1, le=_MAX_POSITIVE_INT)]
    status: _choices(RoutingStatus)  # only draft and released are importable; checked with a plain message
    description: _text_field(200)


class WorkCenterRef(_Strict):
    site: _name_field(20)
    code: _name_field(30)


class CharacteristicDoc(_Strict):
    sequence: Annotated[int, Field(ge=0, le=_MAX_POSITIVE_INT)]
    code: _code_field(40)
    name: _name_field(160)
    kind: _choices(Characteristic.Kind)
    unit: Annotated[_text_field(30) | None, AfterValidator(normalized_unit)]
    nominal: DecimalText | None
    lower_limit: DecimalText | None
    upper_limit: DecimalText | None
    decimals: Annotated[int, Field(ge=0, le=_MAX_SMALL_INT)]
    choices: list[str]
    required: bool
    on_out_of_spec: _choices(Characteristic.OnOutOfSpec)


class StepDoc(_Strict):
    sequence: Annotated[int, Field(ge=0, le=_MAX_POSITIVE_INT)]
    operation: _name_field(40)
    work_center: WorkCenterRef | None
    title: _name_field(160)
    instructions: _text_field()
    signoff: _choices(RoutingStep.Signoff)
    may_run_out_of_order: bool
    characteristics: list[CharacteristicDoc]


class AliasDoc(_Strict):
    source_system: _name_field(60)
    site: _name_field(20) | None
    code: Annotated[_name_field(60), AfterValidator(_stripped)]  # stored stripped, as the service does


class OperationDoc(_Strict):
    code: _name_field(40)
    name: _name_field(120)
    description: _text_field()
    aliases: list[AliasDoc]


class RoutingDocument(_Strict):
    schema_: Literal["traveler.routing"] = Field(alias="schema")
    schema_version: Literal[1]
    part: PartDoc
    part_revision: PartRevisionDoc
    routing: RoutingDoc
    steps: list[StepDoc]
    operations: list[OperationDoc]


def _path(loc: tuple) -> str:
    path = ""
    for item in loc:
        if isinstance(item, int):
            path += f"[{item}]"
        else:
            path += f".{item}" if path else str(item)
    return path or "document"


def _plain_message(error: dict) -> str:
    if error["type"] == "missing":
        return "this field is required"
    if error["type"] in ("model_type", "dict_type"):
        return f"should be a JSON object, not {json_kind(error['input'])}"
    if error["type"] == "extra_forbidden":
        return f"unknown field (not part of {SCHEMA} version {SCHEMA_VERSION})"
    message = error["msg"]
    return message[:1].lower() + message[1:]


def routing_document_parse(*, document: Any) -> RoutingDocument:
    """The document's structure checked (strict types, no unknown or missing keys); DocumentInvalid
    with every structural problem otherwise. Says nothing yet about what the database holds."""
    if not isinstance(document, dict):
        raise DocumentInvalid([("document", f"a routing document is a JSON object, not {json_kind(document)}")])
    schema = document.get("schema")
    version = document.get("schema_version")
    if schema != SCHEMA:
        raise DocumentInvalid([("schema", f"this is not a routing document: schema should be '{SCHEMA}'")])
    if type(version) is not int or version != SCHEMA_VERSION:
        raise DocumentInvalid(
            [("schema_version", f"schema version {version!r} is not supported; this server reads {SCHEMA_VERSION}")]
        )
    try:
        return RoutingDocument.model_validate(document)
    except PydanticValidationError as exc:
        raise DocumentInvalid(
            [(_path(error["loc"]), _plain_message(error)) for error in exc.errors(include_url=False)]
        ) from None
