"""File uploads: ``multipart/form-data`` bodies (RFC 7578), parsed in memory.

Upload routes are few and their bodies are capped at the edge (``BodyGuardMiddleware`` counts the bytes as
they arrive), so the whole body is read and split here: nothing is spooled to disk (the root filesystem is
read-only) and no multipart library is needed. The parser is strict: one boundary, headers in UTF-8, a
``Content-Disposition: form-data`` with a name for every part.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from school_common.errors import bilingual

from gateway.problems import ProblemError

MIB = 1024 * 1024

#: The largest spreadsheet accepted (the staff list).
XLSX_MAX_BYTES = 5 * MIB
#: The largest C1-HocSinh student list accepted, as student-record takes it.
STUDENT_LIST_MAX_BYTES = 10 * MIB
#: The largest record package (hồ sơ chuyển trường, XML) accepted, as student-record takes it.
RECORD_PACKAGE_MAX_BYTES = 10 * MIB
#: What a multipart body may add around the file (boundaries, part headers, a long file name).
MULTIPART_OVERHEAD_BYTES = 64 * 1024

# An .xlsx file is a ZIP archive (Office Open XML); .xls (OLE2), .csv or anything renamed is not.
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_PARTS = 8
_MAX_HEADER_BYTES = 8 * 1024


class MalformedMultipart(ValueError):
    pass


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    content: bytes


def is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _params(header_name: str, value: str) -> Message:
    message = Message()
    message[header_name] = value
    return message


def boundary_of(content_type: str) -> bytes:
    boundary = _params("content-type", content_type).get_param("boundary", header="content-type")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70 or not boundary.isascii():
        raise MalformedMultipart("missing or invalid boundary")
    return boundary.encode("ascii")


def parse_form_data(body: bytes, content_type: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body; :class:`MalformedMultipart` if it is not one."""
    delimiter = b"\r\n--" + boundary_of(content_type)
    segments = (b"\r\n" + body).split(delimiter)
    if len(segments) < 3:  # preamble, at least one part, the close delimiter
        raise MalformedMultipart("no parts")
    closing = segments[-1]
    if not closing.startswith(b"--"):
        raise MalformedMultipart("no close delimiter")
    parts: list[Part] = []
    for segment in segments[1:-1]:
        if len(parts) >= _MAX_PARTS:
            raise MalformedMultipart("too many parts")
        # After the delimiter: optional transport padding (spaces, tabs), then CRLF.
        line_end = segment.find(b"\r\n")
        if line_end < 0 or segment[:line_end].strip(b" \t"):
            raise MalformedMultipart("bad delimiter line")
        header_end = segment.find(b"\r\n\r\n", line_end)
        if header_end < 0 or header_end - line_end > _MAX_HEADER_BYTES:
            raise MalformedMultipart("bad part headers")
        parts.append(_part(segment[line_end + 2 : header_end + 2], segment[header_end + 4 :]))
    return parts


def _part(raw_headers: bytes, content: bytes) -> Part:
    headers: dict[str, str] = {}
    for line in raw_headers.decode("utf-8", errors="strict").split("\r\n"):
        if not line:
            continue
        header, sep, value = line.partition(":")
        if not sep or not header.strip():
            raise MalformedMultipart("bad header line")
        headers[header.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition", "")
    parsed = _params("content-disposition", disposition)
    if parsed.get_content_disposition() != "form-data":
        raise MalformedMultipart("not form-data")
    name = parsed.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise MalformedMultipart("part without a name")
    filename = parsed.get_filename()
    return Part(
        name=name,
        filename=filename if isinstance(filename, str) else None,
        content_type=headers.get("content-type", "text/plain"),
        content=content,
    )


def _invalid(field: str, vi: str, en: str) -> ProblemError:
    message = bilingual(vi, en)
    return ProblemError(422, "INVALID_ARGUMENT", message, errors=[{"field": field, "message": message}])


def single_file(body: bytes, content_type: str, field: str = "file") -> Part:
    """The one file of an upload form, whose only field is ``field``."""
    part, _ = upload_form(body, content_type, field)
    return part


def upload_form(
    body: bytes, content_type: str, field: str = "file", text_fields: tuple[str, ...] = ()
) -> tuple[Part, dict[str, str]]:
    """The one file of an upload form (field ``field``) and its text fields, each at most once (a missing
    one is absent from the dict: the route decides whether it is required)."""
    if not is_multipart(content_type):
        raise ProblemError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            bilingual("Nội dung phải là multipart/form-data", "the request body must be multipart/form-data"),
        )
    try:
        parts = parse_form_data(body, content_type)
    except (MalformedMultipart, UnicodeDecodeError):
        raise _invalid("body", "Nội dung multipart không hợp lệ", "malformed multipart body") from None
    unknown = sorted({p.name for p in parts if p.name != field and p.name not in text_fields})
    if unknown:
        raise _invalid(unknown[0], "Trường không được chấp nhận", "unknown field")
    files = [p for p in parts if p.name == field]
    if not files:
        raise _invalid(field, "Thiếu tệp", "file required")
    if len(files) > 1:
        raise _invalid(field, "Chỉ gửi một tệp", "send one file only")
    if files[0].filename is None:
        raise _invalid(field, "Phải là một tệp", "must be a file")
    texts: dict[str, str] = {}
    for part in parts:
        if part.name == field:
            continue
        if part.name in texts:
            raise _invalid(part.name, "Chỉ gửi một lần", "send it once only")
        if part.filename is not None:
            raise _invalid(part.name, "Phải là văn bản, không phải tệp", "must be text, not a file")
        try:
            texts[part.name] = part.content.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid(part.name, "Phải là văn bản UTF-8", "must be UTF-8 text") from None
    return files[0], texts


def check_xlsx(part: Part, max_bytes: int = XLSX_MAX_BYTES) -> None:
    """413 ``FILE_TOO_LARGE``, 415 ``UNSUPPORTED_FILE_TYPE`` or 422 for an empty file; the rest is the
    service's (it opens the workbook)."""
    if len(part.content) > max_bytes:
        raise file_too_large(max_bytes)
    if not part.content:
        raise _invalid("file", "Tệp rỗng", "the file is empty")
    name = (part.filename or "").lower()
    if not name.endswith(".xlsx") or not part.content.startswith(_ZIP_MAGIC):
        raise ProblemError(
            415,
            "UNSUPPORTED_FILE_TYPE",
            bilingual("Chỉ nhận tệp Excel .xlsx", "only Excel .xlsx files are accepted"),
            errors=[{"field": "file", "message": bilingual("Chỉ nhận tệp .xlsx", "must be an .xlsx file")}],
        )


_XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
# A file part sent without its own media type (RFC 7578's default), or as bytes: judged by its name.
_GENERIC_MEDIA_TYPES = frozenset({"application/octet-stream", "text/plain"})


def check_xml(part: Part, max_bytes: int = RECORD_PACKAGE_MAX_BYTES) -> None:
    """413 ``FILE_TOO_LARGE``, 415 ``UNSUPPORTED_FILE_TYPE`` (a media type that is not XML, or content that
    does not begin like an XML document) or 422 for an empty file; the rest is the service's (it parses
    the XML and checks the signatures)."""
    if len(part.content) > max_bytes:
        raise file_too_large(max_bytes)
    if not part.content:
        raise _invalid("file", "Tệp rỗng", "the file is empty")
    media = part.content_type.split(";", 1)[0].strip().lower()
    xml_media = media in _XML_MEDIA_TYPES or media.endswith("+xml")
    named_xml = media in _GENERIC_MEDIA_TYPES and (part.filename or "").lower().endswith(".xml")
    looks_xml = part.content.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith(b"<")
    if not (xml_media or named_xml) or not looks_xml:
        raise ProblemError(
            415,
            "UNSUPPORTED_FILE_TYPE",
            bilingual("Chỉ nhận tệp XML", "only XML files are accepted"),
            errors=[{"field": "file", "message": bilingual("Phải là tệp .xml", "must be an XML file")}],
        )


def file_too_large(max_bytes: int = XLSX_MAX_BYTES) -> ProblemError:
    mib = max_bytes // MIB
    return ProblemError(
        413,
        "FILE_TOO_LARGE",
        bilingual(f"Tệp vượt quá {mib} MiB", f"the file is larger than {mib} MiB"),
    )
