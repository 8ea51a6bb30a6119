"""Adapter implementations, one module per kind; `impl_for(adapter)` gives the one for a configured
Adapter row. Modules are imported lazily so an optional client library is needed only when used."""

from __future__ import annotations

import importlib

MODULES = {
    "legacy_db": "integrations.adapters.legacy_db",
    "file_drop": "integrations.adapters.file_drop",
    "webhook": "integrations.adapters.webhook",
    "rest_inbound": "integrations.adapters.rest_inbound",
    "mqtt": "integrations.adapters.mqtt",
    "opcua": "integrations.adapters.opcua",
    "archive": "integrations.archive.adapter",
}


def module_for(kind: str):
    if kind not in MODULES:
        raise LookupError(f"no adapter of kind {kind!r}")
    return importlib.import_module(MODULES[kind])


def impl_for(adapter):
    """The implementation object of a configured adapter (each module defines `Impl`)."""
    return module_for(adapter.kind).Impl(adapter)
