"""Render a :class:`TranscriptContent` as XML (``urn:vn-school:hoc-ba:1``) and as an A4 PDF.

Both renderings carry the same strings. Both are deterministic (the same content gives the same bytes),
so a document can be re-rendered and compared, and so what is signed is what the content says.
"""

from __future__ import annotations

import functools
import io
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import font_source_sans_pro
from lxml import etree
from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import (
    Table as PdfTable,
)
from reportlab.platypus.doctemplate import BaseDocTemplate
from school_common.errors import InvalidArgument, bilingual

from student_record.transcripts.content import NAMESPACE, Signatory, Table, TranscriptContent

CONTENT_ID = "noi-dung"
"""The ``Id`` of the element that wraps the content; signatures reference it as ``#noi-dung``."""

FONT = "SourceSansPro-Transcript"
FONT_BOLD = "SourceSansPro-Transcript-Bold"

_N = f"{{{NAMESPACE}}}"


# ---------------------------------------------------------------- XML


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _N + tag, attrs)
    if text is not None:
        element.text = text
    return element


def content_element(content: TranscriptContent) -> etree._Element:
    """The ``HocBa`` root with its ``NoiDung`` content element (no signatures)."""
    root_attrs = {"id": content.transcript_id, "version": str(content.version)}
    if content.supersedes is not None:
        root_attrs["supersedes"] = content.supersedes
    root = etree.Element(_N + "HocBa", root_attrs, nsmap={None: NAMESPACE})
    body = _el(root, "NoiDung", Id=CONTENT_ID)
    _el(body, "MaHocBa", content.transcript_id)
    _el(body, "PhienBan", str(content.version))
    if content.supersedes is not None:
        _el(body, "ThayThe", content.supersedes)
    _el(body, "CoQuanQuanLy", content.authority_name)
    school = _el(body, "Truong")
    _el(school, "Ten", content.school_name)
    _el(school, "Ma", content.school_code)
    _el(body, "CapHoc", content.level)
    _el(body, "NamHoc", content.school_year)
    klass = _el(body, "Lop")
    _el(klass, "Ten", content.class_name)
    _el(klass, "Khoi", str(content.grade))
    student = _el(body, "HocSinh")
    _el(student, "HoTen", content.student_name)
    _el(student, "NgaySinh", content.date_of_birth.isoformat())
    _el(student, "GioiTinh", content.sex)
    _el(student, "MaHocSinh", content.student_code)
    for table in content.tables:
        bang = _el(body, "Bang")
        _el(bang, "TieuDe", table.title)
        for column in table.columns:
            _el(bang, "Cot", column)
        for row in table.rows:
            line = _el(bang, "Dong")
            for cell in row:
                _el(line, "O", cell)
    summary = _el(body, "TongKet")
    for label, value in content.summary:
        item = _el(summary, "Muc")
        _el(item, "Nhan", label)
        _el(item, "GiaTri", value)
    for signatory in content.signatories:
        person = _el(body, "NguoiKy")
        _el(person, "VaiTro", signatory.role)
        _el(person, "ChucDanh", signatory.title)
        _el(person, "HoTen", signatory.full_name)
    _el(body, "NgayCap", content.issued_on.isoformat())
    _el(body, "XacThuc", content.verification_url)
    return root


def render_xml(content: TranscriptContent) -> bytes:
    """The unsigned XML document (UTF-8, NFC text, deterministic)."""
    return etree.tostring(content_element(content), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def xml_parser() -> etree.XMLParser:
    """A parser that never resolves entities nor reaches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False)


def _bad_xml(detail: str) -> InvalidArgument:
    return InvalidArgument(
        "TRANSCRIPT_XML_INVALID",
        bilingual(f"Tệp XML học bạ không hợp lệ: {detail}", f"invalid XML: {detail}"),
    )


def _one(parent: etree._Element, tag: str) -> etree._Element:
    found = parent.findall(_N + tag)
    if len(found) != 1:
        raise _bad_xml(f"cần đúng một <{tag}> / expected exactly one <{tag}>")
    return found[0]


def _text_of(parent: etree._Element, tag: str) -> str:
    return _one(parent, tag).text or ""


def _int(text: str, tag: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _bad_xml(f"<{tag}> không phải số / <{tag}> is not a number")
    return int(text)


def _date(text: str, tag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad_xml(f"<{tag}> không phải ngày / <{tag}> is not a date") from None


def parse_xml(xml: bytes) -> TranscriptContent:
    """Read the content back from an XML transcript, signed or not (signatures are ignored here)."""
    try:
        root = etree.fromstring(xml, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise _bad_xml(str(exc)) from None
    if root.tag != _N + "HocBa":
        raise _bad_xml("gốc không phải HocBa / the root is not HocBa")
    body = _one(root, "NoiDung")
    if body.get("Id") != CONTENT_ID:
        raise _bad_xml("NoiDung thiếu Id / NoiDung has no Id")
    school, klass, student = _one(body, "Truong"), _one(body, "Lop"), _one(body, "HocSinh")
    supersedes = _text_of(body, "ThayThe") if body.find(_N + "ThayThe") is not None else None
    content = TranscriptContent(
        transcript_id=_text_of(body, "MaHocBa"),
        version=_int(_text_of(body, "PhienBan"), "PhienBan"),
        supersedes=supersedes,
        authority_name=_text_of(body, "CoQuanQuanLy"),
        school_name=_text_of(school, "Ten"),
        school_code=_text_of(school, "Ma"),
        level=_text_of(body, "CapHoc"),
        school_year=_text_of(body, "NamHoc"),
        class_name=_text_of(klass, "Ten"),
        grade=_int(_text_of(klass, "Khoi"), "Khoi"),
        student_name=_text_of(student, "HoTen"),
        date_of_birth=_date(_text_of(student, "NgaySinh"), "NgaySinh"),
        sex=_text_of(student, "GioiTinh"),
        student_code=_text_of(student, "MaHocSinh"),
        tables=tuple(
            Table(
                title=_text_of(bang, "TieuDe"),
                columns=tuple(c.text or "" for c in bang.findall(_N + "Cot")),
                rows=tuple(
                    tuple(o.text or "" for o in d.findall(_N + "O")) for d in bang.findall(_N + "Dong")
                ),
            )
            for bang in body.findall(_N + "Bang")
        ),
        summary=tuple(
            (_text_of(m, "Nhan"), _text_of(m, "GiaTri")) for m in _one(body, "TongKet").findall(_N + "Muc")
        ),
        signatories=tuple(
            Signatory(
                role=_text_of(p, "VaiTro"), title=_text_of(p, "ChucDanh"), full_name=_text_of(p, "HoTen")
            )
            for p in body.findall(_N + "NguoiKy")
        ),
        issued_on=_date(_text_of(body, "NgayCap"), "NgayCap"),
        verification_url=_text_of(body, "XacThuc"),
    )
    # The root's attributes are a convenience copy outside the signed element: they must agree with it.
    if (
        root.get("id") != content.transcript_id
        or root.get("version") != str(content.version)
        or root.get("supersedes") != content.supersedes
    ):
        raise _bad_xml("thuộc tính của HocBa khác nội dung / HocBa attributes differ from the content")
    return content


# ---------------------------------------------------------------- PDF


@functools.cache
def register_fonts() -> None:
    """Register Source Sans Pro (Regular, Bold) once; it covers Vietnamese, the base-14 fonts do not."""
    files = Path(font_source_sans_pro.font_directory)
    pdfmetrics.registerFont(TTFont(FONT, str(files / "SourceSansPro-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(files / "SourceSansPro-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def missing_glyphs(text: str, font_name: str = FONT) -> set[str]:
    """The characters of ``text`` that the embedded font cannot draw (ignoring line breaks)."""
    register_fonts()
    font = pdfmetrics.getFont(font_name)
    cmap: dict[int, int] = font.face.charToGlyph
    return {ch for ch in text if ch not in "\n\t" and ord(ch) not in cmap}


def _style(
    name: str, size: float = 10, bold: bool = False, align: int = TA_LEFT, **kw: Any
) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT_BOLD if bold else FONT, fontSize=size, leading=size * 1.25, alignment=align, **kw
    )


_BODY = _style("body")
_BODY_BOLD = _style("body-bold", bold=True)
_CELL = _style("cell", 9)
_CELL_CENTER = _style("cell-center", 9, align=TA_CENTER)
_HEAD = _style("head", 9, bold=True, align=TA_CENTER)
_CENTER = _style("center", align=TA_CENTER)
_CENTER_BOLD = _style("center-bold", bold=True, align=TA_CENTER)
_RIGHT = _style("right", align=TA_RIGHT)
_TITLE = _style("title", 26, bold=True, align=TA_CENTER, spaceBefore=6 * mm)
_SUBTITLE = _style("subtitle", 14, bold=True, align=TA_CENTER, spaceAfter=4 * mm)
_SECTION = _style("section", 11, bold=True, spaceBefore=4 * mm, spaceAfter=2 * mm)
_SMALL = _style("small", 8)
_SMALL_CENTER = _style("small-center", 8, align=TA_CENTER)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    # Escape so that "<", "&" in a name or comment print as such; keep the content's own line breaks.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _vn_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _issued_line(day: date) -> str:
    return f"Ngày {day.day} tháng {day.month} năm {day.year}"


def version_line(content: TranscriptContent) -> str:
    """The line "Phiên bản N", naming the transcript it replaces when it corrects one."""
    if content.supersedes is None:
        return f"Phiên bản {content.version}"
    return f"Phiên bản {content.version} (thay thế học bạ {content.supersedes})"


_GRID = [
    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
]


def _pdf_table(data: list[list[Any]], widths: list[float], *commands: Any, repeat_rows: int = 0) -> PdfTable:
    # The cells are Paragraphs with their own font; naming the table's font too keeps reportlab from
    # selecting Helvetica, a font that is neither embedded nor able to print Vietnamese.
    table = PdfTable(data, colWidths=widths, repeatRows=repeat_rows)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands]))
    return table


def _header(content: TranscriptContent, width: float) -> Flowable:
    left = [_p(content.authority_name, _CENTER), _p(content.school_name, _CENTER_BOLD)]
    right = [
        _p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _CENTER_BOLD),
        _p("Độc lập - Tự do - Hạnh phúc", _CENTER_BOLD),
    ]
    return _pdf_table([[left, right]], [width * 0.45, width * 0.55], ("VALIGN", (0, 0), (-1, -1), "TOP"))


def _student_block(content: TranscriptContent, width: float) -> Flowable:
    rows = [
        ("Họ và tên:", content.student_name),
        ("Ngày sinh:", _vn_date(content.date_of_birth)),
        ("Giới tính:", content.sex_label),
        ("Mã học sinh:", content.student_code or "(chưa có)"),
        ("Trường:", content.school_name),
        ("Mã trường:", content.school_code),
        ("Năm học:", content.school_year),
        ("Lớp:", f"{content.class_name} (khối {content.grade})"),
    ]
    return _pdf_table(
        [[_p(label, _BODY_BOLD), _p(value)] for label, value in rows],
        [width * 0.22, width * 0.78],
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    )


def _table(table: Table, width: float) -> list[Flowable]:
    n = len(table.columns)
    first = width * (0.34 if n > 2 else 0.5)
    widths = [first] + [(width - first) / (n - 1)] * (n - 1) if n > 1 else [width]
    data = [[_p(c, _HEAD) for c in table.columns]]
    data += [
        [_p(cell, _CELL if i == 0 else _CELL_CENTER) for i, cell in enumerate(row)] for row in table.rows
    ]
    grid = _pdf_table(
        data, widths, *_GRID, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")), repeat_rows=1
    )
    return [_p(table.title, _SECTION), grid]


def _summary(content: TranscriptContent, width: float) -> list[Flowable]:
    if not content.summary:
        return []
    data = [[_p(label, _BODY_BOLD), _p(value)] for label, value in content.summary]
    grid = _pdf_table(data, [width * 0.34, width * 0.66], *_GRID)
    return [_p("Tổng kết", _SECTION), grid]


def _signatures(content: TranscriptContent, width: float) -> Flowable:
    def block(s: Signatory) -> list[Flowable]:
        return [
            _p(s.title, _CENTER_BOLD),
            _p("(Đã ký số)", _SMALL_CENTER),
            Spacer(1, 10 * mm),
            _p(s.full_name, _CENTER_BOLD),
        ]

    cells = [block(s) for s in content.signatories] or [[_p("(Chưa có người ký)", _SMALL_CENTER)]]
    return _pdf_table([cells], [width / len(cells)] * len(cells), ("VALIGN", (0, 0), (-1, -1), "TOP"))


def _verification(content: TranscriptContent, width: float) -> Flowable:
    size = 30 * mm
    # The flowable draws rectangles straight on the canvas (the widget's Drawing would select Helvetica).
    qr = QrCode(content.verification_url, width=size, height=size, qrLevel="M", qrBorder=2)
    text = [
        _p("Tra cứu, xác thực học bạ:", _SMALL),
        _p(content.verification_url, _SMALL),
        _p(f"Mã học bạ: {content.transcript_id}", _SMALL),
        _p(version_line(content), _SMALL),
        _p("Học bạ số có chữ ký số của từng người ký và của nhà trường.", _SMALL),
    ]
    return _pdf_table(
        [[qr, text]],
        [size + 4 * mm, width - size - 4 * mm],
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (0, 0), 0),
    )


def _story(content: TranscriptContent, width: float) -> list[Flowable]:
    story: list[Flowable] = [
        _header(content, width),
        _p("HỌC BẠ", _TITLE),
        _p(content.level_title, _SUBTITLE),
        _student_block(content, width),
    ]
    for table in content.tables:
        story += _table(table, width)
    story += _summary(content, width)
    story.append(
        KeepTogether(
            [
                Spacer(1, 4 * mm),
                _p(_issued_line(content.issued_on), _RIGHT),
                Spacer(1, 2 * mm),
                _signatures(content, width),
                Spacer(1, 6 * mm),
                _verification(content, width),
            ]
        )
    )
    return story


def render_pdf(content: TranscriptContent) -> bytes:
    """An A4 PDF in the spirit of the Ministry's transcript, deterministic (reportlab ``invariant``)."""
    register_fonts()
    buffer = io.BytesIO()
    margin = 18 * mm
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        # Metadata names the document, never the student: the info dictionary is indexed and copied
        # by tools that the page's reader does not see.
        title=f"Học bạ {content.level_title.lower()} năm học {content.school_year}",
        subject=f"{NAMESPACE} {content.transcript_id} v{content.version}",
        author=content.school_name,
        creator="School platform (student-record)",
        producer="School platform (student-record)",
        lang="vi-VN",
        initialFontName=FONT,
        initialFontSize=10,
        invariant=1,
    )

    def footer(canvas: Any, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawString(margin, 10 * mm, f"Học bạ năm học {content.school_year} - {version_line(content)}")
        canvas.drawRightString(A4[0] - margin, 10 * mm, f"Trang {document.page}")
        canvas.restoreState()

    doc.build(_story(content, doc.width), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
