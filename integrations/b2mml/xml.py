"""Reading XML safely: the hardened parser, the file's declared encoding, element names.

The parser fetches nothing, expands no entity, loads no DTD and refuses huge trees; a DOCTYPE is refused
outright. Errors name the line and column."""

from __future__ import annotations

import re

from lxml import etree

from ..errors import MessageRefused


class B2mmlError(MessageRefused):
    """A B2MML document that cannot be taken as it is; `field` names the element path."""


def _parser() -> etree.XMLParser:
    # The text is always handed over as UTF-8 bytes, whatever its declaration says.
    return etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(payload: str | bytes) -> etree._Element:
    """The document's root element, or B2mmlError saying where the XML is broken (line, column)."""
    data = payload.encode("utf-8") if isinstance(payload, str) else _as_utf8(payload)
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise B2mmlError("the file is empty", field="payload")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise B2mmlError(f"broken XML at line {line}, column {column}: {exc.msg}", field="payload") from None
    if root.getroottree().docinfo.doctype:
        raise B2mmlError("a DOCTYPE declaration is not accepted in a B2MML document", field="payload")
    return root


def _as_utf8(data: bytes) -> bytes:
    encoding = declared_encoding(data)
    if encoding.lower().replace("-", "").replace("_", "") in {"utf8"}:
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise B2mmlError(f"the document is not valid {encoding} text: {exc}", field="payload") from None


_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def declared_encoding(data: bytes) -> str:
    """The encoding an XML file declares (UTF-8 when it declares none)."""
    match = _DECLARATION.match(data[:200])
    return match.group(1).decode("ascii") if match else "utf-8"


def decode_document(data: bytes) -> str:
    """A file's text, decoded as it declares itself; B2mmlError when it is not that encoding."""
    encoding = declared_encoding(data)
    try:
        return data.decode("utf-8-sig" if encoding.lower() in {"utf-8", "utf8"} else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise B2mmlError(f"the file is not valid {encoding} text: {exc}", field="payload") from None


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def namespace(tag) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
