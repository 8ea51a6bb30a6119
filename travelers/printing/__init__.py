"""The printable traveler as a PDF: the complete human-readable copy of the record (21 CFR 11.10(b)).

    traveler_pdf(traveler) -> bytes        # loads the record, then record_pdf
    record_pdf(record) -> bytes            # from travelers.records.traveler_record(...)

Built with reportlab (pure Python, no system libraries). Every page carries the traveler's number, item
and QR code in its header and "Page N of M" in its footer, so a loose page can be put back. Every
signature is shown with its printed name, meaning and time — at the site and in UTC — (11.50); the
fonts are embedded (TrueType subsets) so the copy reads the same decades later.

The page size is A4 unless settings.TRAVELER_PRINT_PAGE_SIZE says "LETTER".

kit: fonts, styles, tables and the page frame (shared with travelers.audit_pdf); sections: each part of
the record; document: the record's pages, record_pdf and traveler_pdf.
"""

from .document import record_pdf, traveler_pdf

__all__ = ["record_pdf", "traveler_pdf"]
