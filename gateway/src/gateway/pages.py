"""Server-rendered HTML for the public verification pages — a transcript's (the QR code of a printed
transcript opens it in a phone's browser) and a diploma's (serial number and code) — and the content
negotiation that chooses them over JSON.

The pages are plain HTML: no script, no style, no external resource (the edge's
``Content-Security-Policy: default-src 'none'`` stays as it is), Vietnamese first and English second, and
every value escaped, whatever the service answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from fastapi.responses import HTMLResponse

from gateway.problems import TITLES, ProblemError
from gateway.schemas import DiplomaKind, DiplomaVerification, TranscriptVerification

HTML_MEDIA_TYPE = "text/html"
JSON_MEDIA_TYPE = "application/json"


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        kind, _, sub = media.lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        out.append((kind, sub, q))
    return out


def _quality(ranges: list[tuple[str, str, float]], kind: str, sub: str) -> float:
    """The q of ``kind/sub`` under the most specific matching range (RFC 9110 §12.5.1); 0 if none."""
    best: tuple[int, float] = (-1, 0.0)
    for r_kind, r_sub, q in ranges:
        if (r_kind, r_sub) == (kind, sub):
            specificity = 2
        elif (r_kind, r_sub) == (kind, "*"):
            specificity = 1
        elif (r_kind, r_sub) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def prefers_json(accept: str | None) -> bool:
    """JSON only when the client asks for it over HTML (``Accept: application/json``); a browser, ``*/*``
    and no ``Accept`` at all get the HTML page."""
    if not accept:
        return False
    ranges = _ranges(accept)
    json_q = _quality(ranges, "application", "json")
    return json_q > 0 and json_q > _quality(ranges, "text", "html")


def _date_vi(iso: str) -> str:
    year, _, rest = iso.partition("-")
    month, _, day = rest.partition("-")
    return f"{day}/{month}/{year}" if year and month and day else iso


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def _facts(rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>\n" for label, value in rows)
    return f"<dl>\n{items}</dl>\n"


@dataclass(frozen=True)
class Document:
    """What a verification page verifies: its heading, and what its 404 says (a wrong link or code)."""

    heading_vi: str
    heading_en: str
    not_found_title_vi: str
    not_found_vi: str
    not_found_title_en: str
    not_found_en: str

    @property
    def title(self) -> str:
        return f"{self.heading_vi} / {self.heading_en}"


TRANSCRIPT = Document(
    heading_vi="Xác thực học bạ số",
    heading_en="Digital transcript verification",
    not_found_title_vi="Không tìm thấy học bạ",
    not_found_vi="Không tìm thấy học bạ. Hãy kiểm tra lại đường dẫn hoặc mã xác thực in cạnh mã QR trên "
    "học bạ.",
    not_found_title_en="Transcript not found",
    not_found_en="No transcript matches this link. Check the link or the verification code printed beside "
    "the QR code on the transcript.",
)
DIPLOMA = Document(
    heading_vi="Xác thực văn bằng",
    heading_en="Diploma verification",
    not_found_title_vi="Không tìm thấy văn bằng",
    not_found_vi="Không tìm thấy văn bằng. Hãy kiểm tra lại số hiệu và mã xác thực người được cấp đã cung "
    "cấp.",
    not_found_title_en="Diploma not found",
    not_found_en="No diploma or certificate matches. Check the serial number and the verification code "
    "the holder gave you.",
)


def _sections(document: Document, vi: str, en: str) -> str:
    """The page's body: the Vietnamese section first, then the English one."""
    return (
        f"<h1>{escape(document.heading_vi)}</h1>\n"
        f'<section lang="vi">\n{vi}</section>\n'
        f'<section lang="en">\n<h1>{escape(document.heading_en)}</h1>\n{en}</section>\n'
    )


def transcript_page(result: TranscriptVerification, headers: dict[str, str]) -> HTMLResponse:
    if result.valid:
        verdict_vi = "HỌC BẠ HỢP LỆ: chữ ký số và nội dung đã được kiểm tra."
        verdict_en = "VALID TRANSCRIPT: its digital signatures and content check out."
    else:
        verdict_vi = "HỌC BẠ KHÔNG HỢP LỆ: chữ ký số hoặc nội dung không khớp. Không sử dụng bản này."
        verdict_en = "NOT A VALID TRANSCRIPT: its signatures or content do not check out. Do not rely on it."
    if result.superseded:
        status_vi = f"Phiên bản {result.version}: đã được thay thế bằng phiên bản mới hơn"
        status_en = f"Version {result.version}: superseded by a later version"
    else:
        status_vi = f"Phiên bản {result.version}: phiên bản hiện hành"
        status_en = f"Version {result.version}: the current version"
    body = _sections(
        TRANSCRIPT,
        f"<h2>{escape(verdict_vi)}</h2>\n"
        + _facts(
            [
                ("Tình trạng", status_vi),
                ("Học sinh", result.student_name),
                ("Trường", result.school_name),
                ("Năm học", result.school_year),
                ("Ngày cấp", _date_vi(result.issued_on)),
            ]
        ),
        f"<h2>{escape(verdict_en)}</h2>\n"
        + _facts(
            [
                ("Status", status_en),
                ("Student", result.student_name),
                ("School", result.school_name),
                ("School year", result.school_year),
                ("Issued on", result.issued_on),
            ]
        ),
    )
    return HTMLResponse(_page(TRANSCRIPT.title, body), headers=headers)


DIPLOMA_KINDS: dict[DiplomaKind, tuple[str, str]] = {
    "upper_secondary_diploma": ("Bằng tốt nghiệp trung học phổ thông", "Upper-secondary school diploma"),
    "upper_secondary_completion": (
        "Giấy chứng nhận hoàn thành chương trình giáo dục phổ thông cấp trung học phổ thông",
        "Certificate of completion of the upper-secondary programme",
    ),
}
DIPLOMA_VERDICTS: dict[str | None, tuple[str, str]] = {
    "valid": (
        "VĂN BẰNG HỢP LỆ: có trong sổ gốc của nhà trường và còn hiệu lực.",
        "VALID: entered in the school's register and in force.",
    ),
    "corrected": (
        "ĐÃ ĐƯỢC ĐÍNH CHÍNH: văn bằng này đã được thay bằng bản đính chính (số hiệu mới). Không sử dụng bản "
        "này.",
        "CORRECTED: this document was replaced by a corrected one (a new serial number). Do not rely on it.",
    ),
    "revoked": (
        "ĐÃ BỊ THU HỒI: văn bằng này không còn giá trị. Không sử dụng bản này.",
        "REVOKED: this document is no longer valid. Do not rely on it.",
    ),
    None: (
        "KHÔNG XÁC ĐỊNH ĐƯỢC TÌNH TRẠNG: hãy liên hệ nhà trường.",
        "STATUS UNKNOWN: contact the school.",
    ),
}


def diploma_page(result: DiplomaVerification, headers: dict[str, str]) -> HTMLResponse:
    verdict_vi, verdict_en = DIPLOMA_VERDICTS[result.status]
    kind_vi, kind_en = DIPLOMA_KINDS[result.kind] if result.kind else ("", "")
    year = str(result.graduation_year)
    body = _sections(
        DIPLOMA,
        f"<h2>{escape(verdict_vi)}</h2>\n"
        + _facts(
            [
                ("Loại văn bằng", kind_vi),
                ("Người được cấp", result.holder_name),
                ("Trường", result.school_name),
                ("Năm tốt nghiệp", year),
            ]
        ),
        f"<h2>{escape(verdict_en)}</h2>\n"
        + _facts(
            [
                ("Document", kind_en),
                ("Holder", result.holder_name),
                ("School", result.school_name),
                ("Graduation year", year),
            ]
        ),
    )
    return HTMLResponse(_page(DIPLOMA.title, body), headers=headers)


def error_page(problem: ProblemError, headers: dict[str, str], document: Document) -> HTMLResponse:
    """The HTML counterpart of a problem: 404 says the link or code is wrong; others say what the problem
    says (its detail is bilingual, written for people)."""
    if problem.status == 404:
        vi = (document.not_found_vi, document.not_found_title_vi)
        en = (document.not_found_en, document.not_found_title_en)
    else:
        title = TITLES.get(problem.status, TITLES[500])
        title_vi, _, title_en = title.partition(" / ")
        detail_vi, _, detail_en = problem.detail.partition(" / ")
        vi = (detail_vi, title_vi)
        en = (detail_en or detail_vi, title_en or title_vi)
    body = _sections(
        document,
        f"<h2>{escape(vi[1])}</h2>\n<p>{escape(vi[0])}</p>\n",
        f"<h2>{escape(en[1])}</h2>\n<p>{escape(en[0])}</p>\n",
    )
    return HTMLResponse(
        _page(document.title, body), status_code=problem.status, headers={**headers, **problem.headers}
    )
