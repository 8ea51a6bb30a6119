"""The JSON Schemas (Draft 2020-12) of Traveler's events, shipped in integrations/schemas/ and served at
GET /api/schemas/<event_type>/v<n>.json — the URL each event names in its `dataschema`.

Each event schema describes the whole CloudEvents-style envelope and its `data`; shared pieces live in
schemas/common/v1.json and are referenced relatively ("../common/v1.json#/$defs/step"), so a consumer
that fetched one schema from its URL resolves the rest from the same place. The files carry no `$id`:
it is added when a schema is loaded, from PUBLIC_BASE_URL, so the served documents name themselves by
the address they are served from."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mes.events.services import schema_url

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"  # integrations/schemas/
NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z_]+)*$")
COMMON = "common"


class SchemaNotFound(LookupError):
    pass


def event_types() -> list[str]:
    """Every event type that has a schema (the shared definitions excluded)."""
    return sorted(p.name for p in SCHEMA_DIR.iterdir() if p.is_dir() and p.name != COMMON and NAME.match(p.name))


def _path(name: str, version: int) -> Path:
    if not NAME.match(name or "") or version < 1:
        raise SchemaNotFound(f"no schema {name} v{version}")
    path = SCHEMA_DIR / name / f"v{version}.json"
    if not path.is_file():
        raise SchemaNotFound(f"no schema {name} v{version}")
    return path


@lru_cache(maxsize=64)
def _file(name: str, version: int) -> str:
    return _path(name, version).read_text(encoding="utf-8")


def load_schema(name: str, version: int = 1) -> dict:
    """The schema document of `name` (an event type, or "common"), with its `$id` set to its URL."""
    document = json.loads(_file(name, version))
    return {"$schema": document.pop("$schema"), "$id": schema_url(name, version), **document}


def _registry() -> Registry:
    resources = []
    for name in [COMMON, *event_types()]:
        for file in (SCHEMA_DIR / name).glob("v*.json"):
            if file.stem[1:].isdigit():
                schema = load_schema(name, int(file.stem[1:]))
                resources.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def validator_for(event_type: str, version: int = 1) -> Draft202012Validator:
    return _validator(event_type, version, schema_url(event_type, version))


@lru_cache(maxsize=64)
def _validator(event_type: str, version: int, url: str) -> Draft202012Validator:
    schema = load_schema(event_type, version)  # `url` (from PUBLIC_BASE_URL) keys the cache
    return Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())


def validate_event(payload: dict) -> list[str]:
    """Problems of one event envelope against the schema it names (by type and version); empty when valid."""
    event_type = str(payload.get("type", ""))
    if event_type not in event_types() and event_type.removeprefix("traveler.") in event_types():
        event_type = event_type.removeprefix("traveler.")  # an envelope stored before types named themselves
    match = re.search(r"/v(\d+)\.json$", str(payload.get("dataschema", "")))
    version = int(match.group(1)) if match else 1
    try:
        validator = validator_for(event_type, version)
    except SchemaNotFound as exc:
        return [str(exc)]
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    ]
