"""The OpenAPI document: built from the routes, with problem+json on every error response.

``python -m gateway.openapi`` writes ``docs/api/openapi.json`` (sorted keys, two-space indent, trailing
newline), so the committed file changes only when the API does; ``--check`` exits 1 when the committed
file differs from what the code produces.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.openapi.utils import get_openapi

from gateway.problems import PROBLEM_MEDIA_TYPE, PROBLEM_REF, TITLES, FieldError, Problem

if TYPE_CHECKING:
    from fastapi import FastAPI

API_VERSION = "1.0.0"
TITLE = "Nền tảng trường học số — API / Digital school platform — API"
DESCRIPTION = """\
API công khai của nền tảng trường học số cho các Sở GD-ĐT và nhà trường: đơn vị, tài khoản và cán bộ, \
xác thực danh tính, liên kết phụ huynh với con, sự đồng ý xử lý dữ liệu, nhật ký, hồ sơ trường, lớp, học \
sinh, danh sách học sinh của CSDL ngành, sổ điểm và kết quả, học bạ số, chuyển lớp và chuyển trường, sổ \
gốc văn bằng THPT, kỷ luật và khen thưởng, câu lạc bộ, điểm danh, bán trú, và API cho thiết bị điểm danh \
ở cổng trường.
/ The public API of the digital-school platform for education authorities and their schools: tenants, \
accounts and staff, identity verification, guardian–child links, consent, the audit trail, schools, \
classes, students, the sector database's student list, the gradebook and results, digital transcripts, \
moves and transfers, the register of upper-secondary diplomas, discipline and rewards, clubs, attendance, \
semi-boarding, and the partner API of gate check-in terminals.

**Xác thực / Authentication.** Mọi thao tác cần mã truy cập OpenID Connect (`Authorization: Bearer <token>`) \
do realm Keycloak của đơn vị cấp; đơn vị của yêu cầu là realm đã cấp mã, không bao giờ lấy từ header hay \
nội dung. / Every operation needs an OpenID Connect access token issued by the tenant's Keycloak realm; the \
tenant of a request is the realm that issued the token, never a header or a body field. Mã của quản trị \
nền tảng (realm `platform`) chỉ dùng được cho `/v1/tenants`; mọi thao tác khác trả 403 \
`TENANT_TOKEN_REQUIRED`. / A platform operator's token (realm `platform`) reaches `/v1/tenants` only; \
everything else answers 403 `TENANT_TOKEN_REQUIRED`. Thiết bị điểm danh ở cổng (`/v1/partner/…`) dùng mã \
của chính thiết bị, lấy bằng OAuth 2.0 client credentials tại `token_endpoint` của realm đơn vị nhận khi \
đăng ký thiết bị. / Gate check-in terminals (`/v1/partner/…`) use their own token, obtained with OAuth 2.0 \
client credentials at the tenant realm's `token_endpoint` returned when the device is registered. \
Ngoại lệ duy nhất: các trang xác thực công khai học \
bạ và văn bằng `/v1/public/…` (`security: []`) không cần và không đọc mã truy cập; đơn vị nằm trong đường \
dẫn. / The one exception: the public verification of transcripts and diplomas `/v1/public/…` \
(`security: []`) needs no token and never reads one; the tenant is in the path.

**Quyền truy cập / Access.** Quyền theo phân công (giáo viên → lớp, quản trị viên trường → trường, quản trị \
viên Sở/Phòng → cả đơn vị, phụ huynh → con đã liên kết). Bị từ chối: 403 với `reason` như `NOT_YOUR_SCHOOL`. \
/ Access follows assignments (teacher → class, school admin → school, authority admin → the tenant, \
guardian → linked children). A refusal is a 403 with a `reason` such as `NOT_YOUR_SCHOOL`.

**Lỗi / Errors.** Mọi lỗi trả về `application/problem+json` (RFC 9457) với `type`, `title`, `status`, \
`detail` (tiếng Việt / English), `instance`, `reason` (mã ổn định cho máy đọc), `trace_id` và `errors` \
(các trường không hợp lệ). / Every error is `application/problem+json` (RFC 9457) with a stable \
machine-readable `reason` and, for invalid input, `errors: [{field, message}]`.

**Ghi an toàn khi thử lại / Safe retries.** Các thao tác POST tạo dữ liệu nhận header `Idempotency-Key`, \
cũng như điểm danh lớp và đăng ký bán trú (PUT). / POST operations that create something accept an \
`Idempotency-Key` header, as do marking a register and registering for semi-boarding (PUT).

**Dữ liệu cá nhân / Personal data.** Số định danh cá nhân chỉ được gửi đi, không bao giờ được trả lại; các \
dịch vụ khác chỉ biết mã cá nhân ẩn danh `person_id`. / A personal identification number is only ever sent, \
never returned; everything else knows a person by the pseudonymous `person_id`.

**Giới hạn tần suất / Rate limits.** Vượt giới hạn nhận 429 kèm `Retry-After`; các trang công khai có giới \
hạn riêng, chặt hơn, theo địa chỉ IP. / Over the limit: 429 with `Retry-After`; the public pages have a \
stricter limit of their own per client IP.

**Phân trang / Pagination.** Danh sách trả `{items, next_page_token}`; gửi lại `page_token` để lấy trang \
sau. / Lists return `{items, next_page_token}`; pass it back as `page_token` for the next page.
"""

TAGS: list[dict[str, Any]] = [
    {
        "name": "tenants",
        "description": "Đơn vị (Sở/Phòng GD-ĐT) và realm của đơn vị / Tenants and their realms",
    },
    {"name": "me", "description": "Người đang đăng nhập / The caller"},
    {"name": "staff", "description": "Tài khoản và phân công cán bộ / Staff accounts and assignments"},
    {
        "name": "verification",
        "description": "Xác thực số định danh với CSDL quốc gia về dân cư / Citizen-ID verification",
    },
    {"name": "link-requests", "description": "Liên kết phụ huynh với con / Guardian–child links"},
    {"name": "consents", "description": "Sự đồng ý xử lý dữ liệu của học sinh / Consent to processing"},
    {"name": "audit", "description": "Nhật ký của đơn vị / The tenant's audit trail"},
    {"name": "schools", "description": "Trường học của đơn vị / The tenant's schools"},
    {"name": "classes", "description": "Lớp học theo năm học / Classes per school year"},
    {"name": "students", "description": "Học sinh và việc xếp lớp / Students and enrolments"},
    {
        "name": "discipline",
        "description": "Vi phạm, biện pháp giáo dục và khen thưởng theo Thông tư 19/2025 / Violations, "
        "educational measures and rewards under Circular 19/2025",
    },
    {
        "name": "clubs",
        "description": "Câu lạc bộ của trường, thành viên và buổi sinh hoạt / School clubs, their members "
        "and sessions",
    },
    {
        "name": "gradebook",
        "description": "Chương trình, năm học, sổ điểm theo Thông tư 22/2021 và 27/2020, sửa điểm sau "
        "khóa sổ "
        "và kết quả học tập có giải thích / The curriculum, school years, the gradebook under Circulars "
        "22/2021 and 27/2020, changes after the lock and explained results",
    },
    {
        "name": "student-lists",
        "description": "Danh sách học sinh theo mẫu C1-HocSinh của CSDL ngành: nhập và xuất / The sector "
        "database's C1-HocSinh student list: import and export",
    },
    {
        "name": "transcripts",
        "description": "Học bạ số: cấp, đính chính, tải bản đã ký và xác thực công khai / Digital "
        "transcripts: issuing, corrections, signed copies and the public verification",
    },
    {
        "name": "movements",
        "description": "Chuyển lớp trong trường, chuyển trường trong đơn vị, và chuyển đi, chuyển đến ngoài "
        "đơn vị với hồ sơ chuyển trường đã ký / Moves between classes, transfers between schools of the "
        "tenant, and transfers out of and into the tenant with a signed record package",
    },
    {
        "name": "diplomas",
        "description": "Sổ gốc bằng tốt nghiệp THPT và giấy chứng nhận hoàn thành chương trình: vào sổ, "
        "đính chính, thu hồi và xác thực công khai / The register of upper-secondary diplomas and "
        "certificates of completion: entries, corrections, revocations and the public verification",
    },
    {
        "name": "attendance",
        "description": "Sĩ số lớp, lịch điểm danh, sổ điểm danh theo buổi, số buổi nghỉ (45 buổi, Thông tư "
        "22/2021), đơn xin nghỉ, thiết bị và thẻ điểm danh ở cổng / Class rosters, the attendance calendar, "
        "registers per session, the 45-session counter (Circular 22/2021), leave requests, gate devices and "
        "cards",
    },
    {
        "name": "boarding",
        "description": "Bán trú: điều kiện, đăng ký tháng, suất ăn, thực đơn, sổ lưu mẫu thức ăn, tiền ăn và "
        "chăm sóc / Semi-boarding: terms, monthly registrations, meal counts, menus, the food-sample log, "
        "meal and care charges",
    },
    {
        "name": "partners",
        "description": "API cho đối tác tích hợp: thiết bị điểm danh ở cổng trường gửi lượt quẹt thẻ bằng mã "
        "truy cập của chính thiết bị (OAuth 2.0 client credentials) / The partner API: gate check-in "
        "terminals send their taps with the device's own access token (OAuth 2.0 client credentials)",
    },
]

# Every operation under /v1 may answer these.
COMMON_ERRORS = (401, 429, 500, 503, 504)
_METHODS = ("get", "put", "post", "patch", "delete")


def _problem_response(status: int, html: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": TITLES[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
    }
    if html:  # a public page: browsers get the problem as an HTML page
        response["content"]["text/html"] = {"schema": {"type": "string"}}
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "Số giây nên chờ / seconds to wait", "schema": {"type": "integer"}}
        }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"description": "Bearer challenge (RFC 6750)", "schema": {"type": "string"}}
        }
    return response


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        openapi_version=app.openapi_version,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem.pop("$defs", None)
    schemas["Problem"] = problem
    schemas["FieldError"] = FieldError.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            # A public operation (`security: []`, no token) is never 401, and its errors may be an HTML page.
            public = operation.get("security") == []
            if public:  # its parameters are plain strings the route checks itself: malformed ones are 404
                responses.pop("422", None)
            for code in list(responses):
                if code.isdigit() and int(code) >= 400:
                    responses[code] = _problem_response(int(code), html=public)
                elif responses[code].get("description") == "Successful Response":
                    responses[code]["description"] = "Thành công / Success"
            if path.startswith("/v1/"):
                for status in COMMON_ERRORS:
                    if not (public and status == 401):
                        responses.setdefault(str(status), _problem_response(status, html=public))
    return schema


def render(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def default_output() -> Path:
    """``docs/api/openapi.json`` of the repository holding this source tree, else of the current directory."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "gateway" / "pyproject.toml").is_file() and (parent / "docs").is_dir():
            return parent / "docs" / "api" / "openapi.json"
    return Path.cwd() / "docs" / "api" / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=None, help="where to write (default: docs/api/openapi.json)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs instead of writing it"
    )
    args = parser.parse_args(argv)

    from gateway.app import create_app
    from gateway.settings import GatewaySettings

    # Defaults only: the document must not depend on the environment it is generated in.
    settings = GatewaySettings.model_construct()
    text = render(create_app(settings))
    output: Path = args.output or default_output()
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current == text:
            print(f"{output}: up to date")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"{output} (committed)",
            tofile=f"{output} (generated)",
            n=2,
        )
        sys.stdout.writelines(list(diff)[:200])
        print(f"\n{output} is out of date: run `python -m gateway.openapi` (make openapi)", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
