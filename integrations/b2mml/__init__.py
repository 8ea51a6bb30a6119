"""B2MML (ISA-95 Business To Manufacturing Markup Language) beside the legacy MES.

In (reading.py): production and operations schedules of B2MML V0401 through V0700, bare or in a Sync,
Process or Change verb, read into the neutral integrations.orders.WorkOrderIn.
Out (writing.py): completions as V0700 SyncOperationsPerformance or V0401–V0600 SyncProductionPerformance,
in the version the consumer reads, validated against that version's schema.
Schemas (schemas.py): the XSDs Traveler needs, shipped in xsd/ with MESA's licence.
The XML parser (xml.py) is hardened: no network, no entity expansion, no DTD, no huge trees.
"""

from . import schemas
from .reading import (
    MESSAGE_TYPES,
    NAMESPACE_OF,
    NAMESPACES,
    NS_V0401,
    NS_V0500,
    NS_V0600,
    NS_V0700,
    SYNC_ROOTS,
    message_type_of,
    parse_datetime,
    parse_schedule,
)
from .schemas import DocumentInvalid, SchemaMissing, schema_for, validate
from .writing import VERSIONS, document_of, performance_bytes, performance_document, validate_performance
from .xml import B2mmlError, declared_encoding, decode_document, parse_xml, to_bytes

__all__ = [
    "MESSAGE_TYPES",
    "NAMESPACES",
    "NAMESPACE_OF",
    "NS_V0401",
    "NS_V0500",
    "NS_V0600",
    "NS_V0700",
    "SYNC_ROOTS",
    "VERSIONS",
    "B2mmlError",
    "DocumentInvalid",
    "SchemaMissing",
    "decode_document",
    "document_of",
    "declared_encoding",
    "message_type_of",
    "parse_datetime",
    "parse_schedule",
    "parse_xml",
    "performance_bytes",
    "performance_document",
    "schema_for",
    "schemas",
    "to_bytes",
    "validate",
    "validate_performance",
]
