"""The transcript's content and its two renderings: XML round trip, PDF text, fonts, determinism."""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
from datetime import date

import pytest
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader
from school_common.errors import InvalidArgument
from student_record.transcripts.content import (
    NAMESPACE,
    Signatory,
    Table,
    TranscriptContent,
    canonical_json,
    content_digest,
)
from student_record.transcripts.render import (
    FONT,
    FONT_BOLD,
    missing_glyphs,
    parse_xml,
    render_pdf,
    render_xml,
    version_line,
)

TRANSCRIPT_ID = "3f2b6c1e-8a4d-4f6e-9b1a-2c3d4e5f6a7b"
PREVIOUS_ID = "0b8f7d3c-1e2a-4c5b-8d9e-0f1a2b3c4d5e"
VIETNAMESE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc Nguyễn Thị Ánh Dương ữẵặỹỵỷ Ưỡng"


def sample(**changes: object) -> TranscriptContent:
    content = TranscriptContent(
        transcript_id=TRANSCRIPT_ID,
        version=1,
        supersedes=None,
        authority_name="Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
        school_name="Trường THPT Nguyễn Thị Minh Khai",
        school_code="79000701",
        level="upper_secondary",
        school_year="2025-2026",
        class_name="10A1",
        grade=10,
        student_name="Nguyễn Thị Ánh Dương",
        date_of_birth=date(2010, 3, 14),
        sex="female",
        student_code="7900123456",
        tables=(
            Table(
                "Kết quả học tập các môn học và hoạt động giáo dục",
                ("Môn học", "Học kỳ I", "Học kỳ II", "Cả năm"),
                (
                    ("Toán", "8,3", "7,5", "7,8"),
                    ("Ngữ văn", "7,0", "8,0", "7,7"),
                    ("Giáo dục thể chất", "Đạt", "Đạt", "Đạt"),
                ),
            ),
            Table(
                "Kết quả rèn luyện và học tập",
                ("Mặt đánh giá", "Học kỳ I", "Học kỳ II", "Cả năm"),
                (("Rèn luyện", "Tốt", "Tốt", "Tốt"), ("Học tập", "Khá", "Tốt", "Tốt")),
            ),
        ),
        summary=(
            ("Số buổi nghỉ học", "3"),
            ("Được lên lớp", "Có"),
            ("Danh hiệu", "Học sinh Giỏi"),
            (
                "Nhận xét của giáo viên chủ nhiệm",
                "Chăm chỉ, tiến bộ rõ ở học kỳ II.\nCần phát huy <điểm mạnh> & ý thức.",
            ),
        ),
        signatories=(
            Signatory("HOMEROOM_TEACHER", "Giáo viên chủ nhiệm", "Trần Văn Hùng"),
            Signatory("PRINCIPAL", "Hiệu trưởng", "Lê Thị Thu Hà"),
        ),
        issued_on=date(2026, 5, 30),
        verification_url=f"https://school.example/verify/transcripts/{TRANSCRIPT_ID}?c=K7Q2-9XPM",
    )
    return dataclasses.replace(content, **changes) if changes else content  # type: ignore[arg-type]


# ---------------------------------------------------------------- reading the PDF's text back


def _literal(raw: bytes) -> bytes:
    """Decode a PDF literal string's escapes (octal, \\( \\) \\\\ and the letter escapes)."""
    out, i = bytearray(), 0
    letters = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(raw):
        if raw[i] != 0x5C:
            out.append(raw[i])
            i += 1
            continue
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += letters.get(raw[i + 1], bytes([raw[i + 1]]))
            i += 2
    return bytes(out)


def _to_unicode(font: object) -> dict[int, str]:
    cmap = font["/ToUnicode"].get_object().data  # type: ignore[index]
    return {
        int(code, 16): chr(int(uni, 16))
        for code, uni in re.findall(rb"<([0-9A-F]{2})>\s*<([0-9A-F]{4})>", cmap)
    }


def pdf_text(pdf: bytes) -> str:
    """The text the pages draw, decoded through each font's ToUnicode map (enough for reportlab output)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    text = []
    for page in reader.root["/Pages"]["/Kids"]:
        page = page.get_object()
        fonts = {
            f"/{name.lstrip('/')}": _to_unicode(f.get_object())
            for name, f in page["/Resources"]["/Font"].items()
        }
        stream = page["/Contents"].get_object().data
        current: dict[int, str] = {}
        for match in re.finditer(
            rb"(/[^\s/\[\]()<>]+)\s+[-\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S
        ):
            if match.group(1):
                current = fonts[match.group(1).decode()]
            else:
                text.append("".join(current[b] for b in _literal(match.group(2))))
    return "\n".join(text)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- content


def test_content_is_normalised_to_nfc_and_validated() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Dương")
    content = sample(student_name=decomposed)
    assert content.student_name == "Nguyễn Thị Ánh Dương"
    assert unicodedata.is_normalized("NFC", content.student_name)
    assert content == sample()

    with pytest.raises(InvalidArgument):
        Table("Bảng", ("Môn học", "Cả năm"), (("Toán", "8,3", "7,5"),))
    with pytest.raises(InvalidArgument):
        sample(grade=6)  # grade 6 is lower secondary
    with pytest.raises(InvalidArgument):
        sample(version=2)  # a correction must name what it supersedes
    with pytest.raises(InvalidArgument):
        sample(student_name="Nguyễn\x07")  # XML cannot carry it


def test_content_digest_is_stable_and_sensitive() -> None:
    assert content_digest(sample()) == content_digest(sample())
    assert len(content_digest(sample())) == 64
    assert content_digest(sample(student_code="")) != content_digest(sample())
    assert canonical_json(sample()).decode().count("Nguyễn Thị Ánh Dương") == 1


# ---------------------------------------------------------------- XML


def test_xml_round_trips_and_is_deterministic() -> None:
    content = sample()
    xml = render_xml(content)
    assert xml == render_xml(sample())
    assert parse_xml(xml) == content
    root = etree.fromstring(xml)
    assert root.tag == f"{{{NAMESPACE}}}HocBa"
    assert root.get("id") == TRANSCRIPT_ID
    assert root.get("version") == "1"
    assert root.get("supersedes") is None
    assert root.find(f"{{{NAMESPACE}}}NoiDung").get("Id") == "noi-dung"
    assert "Nguyễn Thị Ánh Dương".encode() in xml  # NFC, UTF-8, not escaped


def test_xml_of_a_correction_carries_what_it_supersedes() -> None:
    content = sample(version=2, supersedes=PREVIOUS_ID, student_code="")
    xml = render_xml(content)
    root = etree.fromstring(xml)
    assert root.get("supersedes") == PREVIOUS_ID
    assert parse_xml(xml) == content


def test_xml_whose_root_disagrees_with_the_signed_content_is_refused() -> None:
    xml = render_xml(sample()).replace(b'version="1"', b'version="3"', 1)
    with pytest.raises(InvalidArgument):
        parse_xml(xml)


# ---------------------------------------------------------------- PDF


def test_embedded_font_has_every_vietnamese_glyph() -> None:
    assert missing_glyphs(VIETNAMESE, FONT) == set()
    assert missing_glyphs(VIETNAMESE, FONT_BOLD) == set()
    everything = "".join(
        [*pdf_strings(sample()), *(unicodedata.normalize("NFC", chr(c)) for c in range(0x1EA0, 0x1EFA))]
    )
    assert missing_glyphs(everything) == set()
    assert missing_glyphs("學") == {"學"}  # the check can fail


def pdf_strings(content: TranscriptContent) -> list[str]:
    """Every content string the PDF must show verbatim (the same strings as the XML)."""
    strings = [
        content.authority_name,
        content.school_name,
        content.school_code,
        content.school_year,
        content.class_name,
        content.student_name,
        content.sex_label,
        content.student_code,
        content.verification_url,
        content.transcript_id,
        content.level_title,
    ]
    for table in content.tables:
        strings += [table.title, *table.columns, *(cell for row in table.rows for cell in row)]
    strings += [text for pair in content.summary for text in pair]
    strings += [text for s in content.signatories for text in (s.title, s.full_name)]
    return [s for s in strings if s]


def test_pdf_shows_the_same_strings_as_the_xml() -> None:
    content = sample()
    pdf = render_pdf(content)
    assert pdf.startswith(b"%PDF-")
    shown = squeeze(pdf_text(pdf))
    from_xml = parse_xml(render_xml(content))
    for text in pdf_strings(from_xml):
        assert squeeze(text) in shown, text
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "HỌC BẠ", "14/03/2010"):
        assert squeeze(text) in shown, text
    assert squeeze("Ngày 30 tháng 5 năm 2026") in shown
    assert squeeze("Chưa đạt") not in shown  # the extraction can fail


def test_pdf_is_deterministic() -> None:
    assert render_pdf(sample()) == render_pdf(sample())
    assert render_pdf(sample()) != render_pdf(sample(student_code="7900123457"))


def test_pdf_names_the_level_and_the_version_it_replaces() -> None:
    primary = sample(
        level="primary",
        grade=3,
        class_name="3A",
        version=2,
        supersedes=PREVIOUS_ID,
        tables=(Table("Phẩm chất chủ yếu", ("Phẩm chất", "Mức đạt được"), (("Yêu nước", "Tốt"),)),),
    )
    shown = squeeze(pdf_text(render_pdf(primary)))
    assert "TIỂUHỌC" in shown
    assert version_line(primary) == f"Phiên bản 2 (thay thế học bạ {PREVIOUS_ID})"
    assert squeeze(version_line(primary)) in shown
    assert "Phiênbản1" in squeeze(pdf_text(render_pdf(sample())))


def test_pdf_metadata_names_the_document_not_the_student() -> None:
    reader = PdfFileReader(io.BytesIO(render_pdf(sample())))
    info = reader.trailer["/Info"]
    assert str(info["/Title"]) == "Học bạ trung học phổ thông năm học 2025-2026"
    assert TRANSCRIPT_ID in str(info["/Subject"])
    metadata = " ".join(str(v) for v in info.values())
    for personal in ("Nguyễn Thị Ánh Dương", "2010", "7900123456"):
        assert personal not in metadata
