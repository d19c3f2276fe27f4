"""The record package a student takes to a school outside the tenant (hồ sơ chuyển trường): the basic data,
every school year's results as the sending school computed them, and the signed transcripts as issued.
Pure: XML in, XML out. The sending school signs the package (``transcripts.signing``), in the transcripts'
namespace so that the same signature slots and checks apply; the transcripts inside keep their own
signatures and can be verified on their own.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date

from lxml import etree
from school_common.errors import InvalidArgument, bilingual

from student_record.transcripts.content import NAMESPACE
from student_record.transcripts.render import CONTENT_ID, xml_parser

_N = f"{{{NAMESPACE}}}"
ROOT = "HoSoChuyenTruong"


@dataclass(frozen=True)
class YearRecord:
    school_year: str
    class_name: str
    grade: int
    #: (term label, subject name, display value), e.g. ("Cả năm", "Toán", "8,3")
    subjects: tuple[tuple[str, str, str], ...]
    #: (term label, "Rèn luyện" / "Học tập", level), e.g. ("Cả năm", "Học tập", "Khá")
    overall: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Package:
    package_id: str
    student_name: str
    date_of_birth: date
    sex: str
    student_code: str
    from_school: str
    from_school_code: str
    destination: str
    effective_on: date
    years: tuple[YearRecord, ...] = ()
    #: signed transcript XML documents, as issued
    transcripts: tuple[bytes, ...] = field(default=(), repr=False)


def _text(parent: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(parent, _N + tag).text = value


def render_package(package: Package) -> bytes:
    root = etree.Element(_N + ROOT, {"id": package.package_id}, nsmap={None: NAMESPACE})
    content = etree.SubElement(root, _N + "NoiDung", {"Id": CONTENT_ID})
    student = etree.SubElement(content, _N + "HocSinh")
    _text(student, "HoTen", package.student_name)
    _text(student, "NgaySinh", package.date_of_birth.isoformat())
    _text(student, "GioiTinh", package.sex)
    _text(student, "MaHocSinh", package.student_code)
    school = etree.SubElement(content, _N + "TruongChuyenDi")
    _text(school, "Ten", package.from_school)
    _text(school, "Ma", package.from_school_code)
    _text(content, "NoiChuyenDen", package.destination)
    _text(content, "NgayChuyen", package.effective_on.isoformat())
    for year in package.years:
        node = etree.SubElement(
            content, _N + "NamHoc", {"ten": year.school_year, "lop": year.class_name, "khoi": str(year.grade)}
        )
        for term, subject, value in year.subjects:
            etree.SubElement(node, _N + "Mon", {"ky": term, "ten": subject, "ketQua": value})
        for term, what, level in year.overall:
            etree.SubElement(node, _N + "DanhGia", {"ky": term, "noiDung": what, "mucDo": level})
    for document in package.transcripts:
        _text(content, "HocBaDaKy", base64.b64encode(document).decode("ascii"))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def invalid_package() -> InvalidArgument:
    return InvalidArgument(
        "INVALID_RECORD_PACKAGE",
        bilingual("Tệp không phải hồ sơ chuyển trường hợp lệ", "not a valid record package"),
        {"field": "content"},
    )


def parse_package(xml: bytes) -> Package:
    try:
        root = etree.fromstring(xml, xml_parser())
    except etree.XMLSyntaxError:
        raise invalid_package() from None
    content = root.find(_N + "NoiDung")
    if root.tag != _N + ROOT or content is None:
        raise invalid_package()

    def text(path: str) -> str:
        node = content.find(_path(path))
        if node is None or node.text is None:
            raise invalid_package()
        return node.text

    try:
        years = tuple(
            YearRecord(
                school_year=node.get("ten", ""),
                class_name=node.get("lop", ""),
                grade=int(node.get("khoi", "0")),
                subjects=tuple(
                    (m.get("ky", ""), m.get("ten", ""), m.get("ketQua", "")) for m in node.findall(_N + "Mon")
                ),
                overall=tuple(
                    (d.get("ky", ""), d.get("noiDung", ""), d.get("mucDo", ""))
                    for d in node.findall(_N + "DanhGia")
                ),
            )
            for node in content.findall(_N + "NamHoc")
        )
        return Package(
            package_id=root.get("id", ""),
            student_name=text("HocSinh/HoTen"),
            date_of_birth=date.fromisoformat(text("HocSinh/NgaySinh")),
            sex=text("HocSinh/GioiTinh"),
            student_code=(content.findtext(_path("HocSinh/MaHocSinh")) or ""),
            from_school=text("TruongChuyenDi/Ten"),
            from_school_code=content.findtext(_path("TruongChuyenDi/Ma")) or "",
            destination=content.findtext(_path("NoiChuyenDen")) or "",
            effective_on=date.fromisoformat(text("NgayChuyen")),
            years=years,
            transcripts=tuple(
                base64.b64decode(node.text or "", validate=True) for node in content.findall(_N + "HocBaDaKy")
            ),
        )
    except (ValueError, TypeError):
        raise invalid_package() from None


def _path(path: str) -> str:
    return "/".join(_N + part for part in path.split("/"))
