"""Master data as documents: a routing (its part and part revision, steps, characteristics, and the
aliases of its operations) as one versioned JSON document, exported and imported whole.

An import is checked in two passes before anything is written: the structure (pydantic, strict types,
no unknown keys, no missing keys), then the meaning (units, limits, operations, sites, work centers,
duplicates, aliases, what already exists). Every problem found is collected and raised together as
DocumentInvalid, each naming its field by a dotted path such as `steps[2].characteristics[0].unit`.
Only a sound document is written, in one transaction, through the master-data services.

Decimals travel as JSON strings ("12.687"), exact and never in exponent notation, so no float ever
rounds a limit. Instruction attachments (binary files) are not part of the document.

    schema     the document's structure (schema version 1) and its structural check, routing_document_parse
    export     routing_document_export: a routing as a document
    importer   routing_document_import / routing_document_apply: the checks of meaning, then the writing

This package's __init__ re-exports nothing: importing the importer pulls in change control (a document
released in its source asks for a release change), and change control itself imports only the export.
"""
