"""Server-rendered HTML for the public transcript verification page (the QR code of a printed transcript
opens it in a phone's browser), and the content negotiation that chooses it over JSON.

The pages are plain HTML: no script, no style, no external resource (the edge's
``Content-Security-Policy: default-src 'none'`` stays as it is), Vietnamese first and English second, and
every value escaped, whatever the service answered.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from gateway.problems import TITLES, ProblemError
from gateway.schemas import TranscriptVerification

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


PAGE_TITLE = "Xác thực học bạ số / Digital transcript verification"


def verification_page(result: TranscriptVerification, headers: dict[str, str]) -> HTMLResponse:
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
    body = (
        "<h1>Xác thực học bạ số</h1>\n"
        f'<section lang="vi">\n<h2>{escape(verdict_vi)}</h2>\n'
        + _facts(
            [
                ("Tình trạng", status_vi),
                ("Học sinh", result.student_name),
                ("Trường", result.school_name),
                ("Năm học", result.school_year),
                ("Ngày cấp", _date_vi(result.issued_on)),
            ]
        )
        + "</section>\n"
        '<section lang="en">\n<h1>Digital transcript verification</h1>\n'
        f"<h2>{escape(verdict_en)}</h2>\n"
        + _facts(
            [
                ("Status", status_en),
                ("Student", result.student_name),
                ("School", result.school_name),
                ("School year", result.school_year),
                ("Issued on", result.issued_on),
            ]
        )
        + "</section>\n"
    )
    return HTMLResponse(_page(PAGE_TITLE, body), headers=headers)


def error_page(problem: ProblemError, headers: dict[str, str]) -> HTMLResponse:
    """The HTML counterpart of a problem: 404 says the link or code is wrong; others say what the problem
    says (its detail is bilingual, written for people)."""
    if problem.status == 404:
        vi = (
            "Không tìm thấy học bạ. Hãy kiểm tra lại đường dẫn hoặc mã xác thực in cạnh mã QR trên học bạ.",
            "Không tìm thấy học bạ",
        )
        en = (
            "No transcript matches this link. Check the link or the verification code printed beside the "
            "QR code on the transcript.",
            "Transcript not found",
        )
    else:
        title = TITLES.get(problem.status, TITLES[500])
        title_vi, _, title_en = title.partition(" / ")
        detail_vi, _, detail_en = problem.detail.partition(" / ")
        vi = (detail_vi, title_vi)
        en = (detail_en or detail_vi, title_en or title_vi)
    body = (
        "<h1>Xác thực học bạ số</h1>\n"
        f'<section lang="vi">\n<h2>{escape(vi[1])}</h2>\n<p>{escape(vi[0])}</p>\n</section>\n'
        '<section lang="en">\n<h1>Digital transcript verification</h1>\n'
        f"<h2>{escape(en[1])}</h2>\n<p>{escape(en[0])}</p>\n</section>\n"
    )
    return HTMLResponse(
        _page(PAGE_TITLE, body), status_code=problem.status, headers={**headers, **problem.headers}
    )
