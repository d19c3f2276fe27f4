"""The multipart/form-data parser behind upload routes (RFC 7578), byte-exact and strict."""

from __future__ import annotations

import os

import httpx
import pytest

from gateway.problems import ProblemError
from gateway.uploads import MalformedMultipart, Part, check_xlsx, parse_form_data, single_file


def encode(
    files: dict[str, tuple[str | None, bytes]], data: dict[str, str] | None = None
) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x", files=files, data=data)
    return request.read(), request.headers["content-type"]


def test_binary_content_is_exact() -> None:
    content = os.urandom(64 * 1024) + b"\r\n--\r\n\r\n" + b"\r" + b"\n"
    body, content_type = encode({"file": ("Danh sách.xlsx", content)})
    [part] = parse_form_data(body, content_type)
    assert (part.name, part.filename, part.content) == ("file", "Danh sách.xlsx", content)


def test_fields_and_files() -> None:
    body, content_type = encode({"file": ("a.xlsx", b"PK\x03\x04")}, data={"note": "ghi chú"})
    parts = parse_form_data(body, content_type)
    assert [(p.name, p.filename, p.content) for p in parts] == [
        ("note", None, "ghi chú".encode()),
        ("file", "a.xlsx", b"PK\x03\x04"),
    ]


def test_quoted_boundary_preamble_and_epilogue() -> None:
    body = (
        b"preamble\r\n--b q\r\n"
        b'Content-Disposition: form-data; name="file"; filename="x.xlsx"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"PK\x03\x04data\r\n--b q--\r\nepilogue"
    )
    [part] = parse_form_data(body, 'multipart/form-data; boundary="b q"')
    assert (part.filename, part.content_type, part.content) == (
        "x.xlsx",
        "application/octet-stream",
        b"PK\x03\x04data",
    )


def test_rfc_2231_file_names() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; '
        b"filename*=UTF-8''B%C3%A1o%20c%C3%A1o.xlsx\r\n\r\n"
        b"PK\x03\x04\r\n--b--\r\n"
    )
    [part] = parse_form_data(body, "multipart/form-data; boundary=b")
    assert part.filename == "Báo cáo.xlsx"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "multipart/form-data; boundary=b"),
        (
            b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nno close',
            "multipart/form-data; boundary=b",
        ),
        (b"--b\r\nno headers end\r\n--b--", "multipart/form-data; boundary=b"),
        (
            b'--b\r\nContent-Disposition: attachment; name="f"\r\n\r\nx\r\n--b--',
            "multipart/form-data; boundary=b",
        ),
        (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b"),
        (b"--b\r\nbroken header\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b"),
        (b"--b\r\n\r\n--b--", "multipart/form-data"),  # no boundary
        (b"--b\r\n\r\n--b--", "multipart/form-data; boundary=" + "b" * 71),
    ],
)
def test_malformed_bodies(body: bytes, content_type: str) -> None:
    with pytest.raises(MalformedMultipart):
        parse_form_data(body, content_type)


def test_too_many_parts() -> None:
    body, content_type = encode({}, data={f"f{i}": "x" for i in range(9)})
    with pytest.raises(MalformedMultipart):
        parse_form_data(body, content_type)


def test_single_file_problems() -> None:
    body, content_type = encode({"file": ("a.xlsx", b"PK\x03\x04")})
    assert single_file(body, content_type).filename == "a.xlsx"
    with pytest.raises(ProblemError) as info:
        single_file(body, "application/json")
    assert (info.value.status, info.value.reason) == (415, "UNSUPPORTED_MEDIA_TYPE")
    with pytest.raises(ProblemError) as info:
        single_file(b"\xff\xfe", content_type)
    assert info.value.errors[0]["field"] == "body"


@pytest.mark.parametrize(
    ("part", "status", "reason"),
    [
        (Part("file", "a.xlsx", "", b"PK\x03\x04" + b"\0" * 11), 413, "FILE_TOO_LARGE"),
        (Part("file", "a.xlsx", "", b""), 422, "INVALID_ARGUMENT"),
        (Part("file", "a.XLSX", "", b"PK\x03"), 415, "UNSUPPORTED_FILE_TYPE"),
        (Part("file", "a.xlsx.csv", "", b"PK\x03\x04"), 415, "UNSUPPORTED_FILE_TYPE"),
    ],
)
def test_check_xlsx(part: Part, status: int, reason: str) -> None:
    with pytest.raises(ProblemError) as info:
        check_xlsx(part, max_bytes=12)
    assert (info.value.status, info.value.reason) == (status, reason)


def test_check_xlsx_accepts_upper_case_extensions() -> None:
    check_xlsx(Part("file", "BÁO CÁO.XLSX", "", b"PK\x03\x04"), max_bytes=12)
