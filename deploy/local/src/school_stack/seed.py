"""Demo data, written through the public API like any client would (and replayable: Idempotency-Key)."""

from __future__ import annotations

from typing import Any

import httpx

SCHOOLS: dict[str, list[dict[str, Any]]] = {
    "demo": [
        {
            "name": "Trường Tiểu học Nguyễn Trãi",
            "code": "79000701",
            "levels": ["primary"],
            "classes": [("1A", 1), ("4A", 4), ("5A", 5)],
        },
        {
            "name": "Trường THCS Lê Quý Đôn",
            "code": "79000702",
            "levels": ["lower_secondary"],
            "classes": [("6A1", 6), ("8A1", 8), ("9A1", 9)],
        },
    ],
    "other": [
        {
            "name": "Trường THPT Chuyên Tỉnh Khác",
            "code": "80000801",
            "levels": ["upper_secondary"],
            "classes": [("10A1", 10)],
        },
    ],
}

FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh"]
GIVEN_NAMES = [
    "Minh Anh",
    "Gia Bảo",
    "Khánh Linh",
    "Đức Huy",
    "Ngọc Hân",
    "Quốc Khánh",
    "Thảo My",
    "Hoàng Nam",
]
MOTHERS = ["Thị Hồng", "Thị Lan", "Thị Mai", "Thu Trang", "Thị Hạnh"]
SCHOOL_YEAR = "2025-2026"

# The demo families (people of the citizen-registry simulator's seed and of the VNeID stand-in): the
# guardians are recorded with their personal identification numbers, so a parent who signs in with
# VNeID finds their children linked. Trần Thị Mai has a child in each of two schools.
MAI = {
    "full_name": "Trần Thị Mai",
    "relationship": "mother",
    "phone": "0903123456",
    "personal_id": "079185001234",
    "date_of_birth": "1985-03-12",
}
HUNG = {
    "full_name": "Lê Văn Hùng",
    "relationship": "father",
    "phone": "0912000111",
    "personal_id": "001082004567",
    "date_of_birth": "1982-11-02",
}
FAMILIES: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    # slug → (school code, class name, enrolment)
    "demo": [
        (
            "79000702",
            "8A1",
            {
                "full_name": "Nguyễn Minh Khoa",
                "date_of_birth": "2012-08-15",
                "sex": "male",
                "personal_id": "079212003456",
                "guardians": [MAI],
            },
        ),
        (
            "79000701",
            "4A",
            {
                "full_name": "Lê Gia Bảo",
                "date_of_birth": "2016-05-27",
                "sex": "male",
                "personal_id": "079216038521",
                "guardians": [MAI, HUNG],
            },
        ),
    ],
}

# The demo staff as the sector database's staff spreadsheet lists them (deploy/keycloak/dev/ has their
# accounts; the import verifies them against the citizen registry and gives them their assignments).
STAFF_HEADER = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số định danh cá nhân",
    "Email",
    "Mã trường",
    "Vị trí việc làm",
    "Lớp chủ nhiệm",
    "Môn dạy",
    "Lớp dạy",
]
STAFF: dict[str, list[list[str]]] = {
    "demo": [
        [
            "Võ Thị Thu Hà",
            "16/04/1978",
            "Nữ",
            "079178012345",
            "th.nguyentrai.admin@demo.school.local",
            "79000701",
            "Hiệu trưởng",
            "",
            "",
            "",
        ],
        [
            "Bùi Đức Thắng",
            "02/08/1975",
            "Nam",
            "079075023456",
            "thcs.lequydon.admin@demo.school.local",
            "79000702",
            "Hiệu trưởng",
            "",
            "",
            "",
        ],
        [
            "Nguyễn Thị Hoa",
            "05/09/1988",
            "Nữ",
            "001188034567",
            "gv.nguyenthihoa@demo.school.local",
            "79000702",
            "Giáo viên",
            "6A1",
            "Toán",
            "6A1, 8A1",
        ],
        [
            "Phạm Minh Tuấn",
            "20/02/1990",
            "Nam",
            "031090045678",
            "gv.phamminhtuan@demo.school.local",
            "79000701",
            "Giáo viên",
            "",
            "Tiếng Việt",
            "4A",
        ],
        [
            "Đỗ Thị Ngọc Anh",
            "11/06/1992",
            "Nữ",
            "079192056789",
            "yt.dothingocanh@demo.school.local",
            "79000702",
            "Nhân viên y tế",
            "",
            "",
            "",
        ],
        [
            "Hoàng Văn Long",
            "25/12/1985",
            "Nam",
            "036085067890",
            "kt.hoangvanlong@demo.school.local",
            "79000702",
            "Kế toán",
            "",
            "",
            "",
        ],
    ],
}


def staff_workbook(rows: list[list[str]]) -> bytes:
    """The staff list as an .xlsx, with a title row above the header like the sector's templates."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN (dữ liệu mẫu)"])
    sheet.append(STAFF_HEADER)
    for n, row in enumerate(rows, start=1):
        sheet.append([n, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _student(n: int, grade: int) -> dict[str, Any]:
    family = FAMILY_NAMES[n % len(FAMILY_NAMES)]
    birth_year = 2025 - 6 - grade + 1
    return {
        "full_name": f"{family} {GIVEN_NAMES[n % len(GIVEN_NAMES)]}",
        "date_of_birth": f"{birth_year}-{(n % 12) + 1:02d}-{(n % 27) + 1:02d}",
        "sex": "female" if n % 2 else "male",
        "guardians": [
            {
                "full_name": f"{FAMILY_NAMES[(n + 3) % len(FAMILY_NAMES)]} {MOTHERS[n % len(MOTHERS)]}",
                "relationship": "mother",
                "phone": f"09{(12345670 + n) % 100000000:08d}",
            }
        ],
    }


async def token(keycloak: dict[str, Any], slug: str, role: str) -> str:
    realm = keycloak["realms"][slug]
    user = next(u for u in realm["users"] if role in u["roles"])
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{keycloak['base_url']}/realms/{realm['realm']}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": realm["clients"]["dev_cli"],
                "username": user["username"],
                "password": user["password"],
                "scope": "openid",
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


async def seed(description: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for slug, schools in SCHOOLS.items():
        bearer = await token(description["keycloak"], slug, "authority_admin")
        async with httpx.AsyncClient(
            base_url=description["gateway_url"], timeout=15, headers={"Authorization": f"Bearer {bearer}"}
        ) as api:

            async def post(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
                response = await api.post(path, json=body, headers={"Idempotency-Key": key})
                if response.status_code not in (200, 201):
                    raise RuntimeError(f"seeding {path} failed: {response.status_code} {response.text[:300]}")
                return dict(response.json())

            seeded = []
            n = 0
            for s_index, school in enumerate(schools):
                created = await post(
                    "/v1/schools",
                    {k: school[k] for k in ("name", "code", "levels")},
                    f"seed-{slug}-school-{s_index}",
                )
                entry: dict[str, Any] = {"id": created["id"], "name": created["name"], "classes": []}
                for c_index, (name, grade) in enumerate(school["classes"]):
                    klass = await post(
                        f"/v1/schools/{created['id']}/classes",
                        {"name": name, "grade": grade, "school_year": SCHOOL_YEAR},
                        f"seed-{slug}-class-{s_index}-{c_index}",
                    )
                    students = []
                    for k in range(3):
                        enrolled = await post(
                            f"/v1/classes/{klass['id']}/students",
                            {"student": _student(n, grade)},
                            f"seed-{slug}-student-{s_index}-{c_index}-{k}",
                        )
                        students.append(enrolled["student"]["id"])
                        n += 1
                    entry["classes"].append(
                        {"id": klass["id"], "name": name, "grade": grade, "students": students}
                    )
                seeded.append(entry)
            classes = {
                (school["code"], c["name"]): c["id"]
                for school, entry in zip(schools, seeded, strict=True)
                for c in entry["classes"]
            }
            families = []
            for f_index, (code, class_name, student) in enumerate(FAMILIES.get(slug, [])):
                enrolled = await post(
                    f"/v1/classes/{classes[(code, class_name)]}/students",
                    {"student": student},
                    f"seed-{slug}-family-{f_index}",
                )
                families.append(
                    {"student_id": enrolled["student"]["id"], "class": class_name, "school": code}
                )
            result[slug] = {"schools": seeded, "families": families}
            for school, entry in zip(schools, seeded, strict=True):
                await school_days(api, entry["id"], school)
            if slug in STAFF:
                result[slug]["staff_import"] = await import_staff(api, staff_workbook(STAFF[slug]))
    return result


#: The demo school year's semesters (the Ministry's 2025-2026 plan: from 5 September to 31 May).
SEMESTERS = {
    "semester_1_start": "2025-09-05",
    "semester_1_end": "2026-01-17",
    "semester_2_start": "2026-01-19",
    "semester_2_end": "2026-05-29",
}


async def school_days(api: httpx.AsyncClient, school_id: str, school: dict[str, Any]) -> None:
    """The school year, the attendance calendar and, for the primary school, semi-boarding terms (Hồ Chí
    Minh City's cap for primary semi-boarding care, Resolution 13/2024: 320,000 đ a month suburban)."""
    import asyncio

    defined = await api.put(f"/v1/schools/{school_id}/school-years/{SCHOOL_YEAR}", json=SEMESTERS)
    locked = defined.status_code == 422 and defined.json().get("reason") == "SEMESTER_LOCKED"
    if defined.status_code != 200 and not locked:  # a year someone locked since stays as it is
        raise RuntimeError(f"seeding the school year failed: {defined.status_code} {defined.text[:300]}")
    primary = "primary" in school["levels"]
    calendar = {
        # Primary schools teach two sessions a day; the lower-secondary demo school one, in the morning.
        "sessions": ["morning", "afternoon"] if primary else ["morning"],
        "weekdays": [1, 2, 3, 4, 5],
        "main_session": "morning",
        "morning_cutoff": "09:00",
        "afternoon_cutoff": "15:00",
        "afternoon_starts": "12:00",
        "closed_dates": ["2025-09-01", "2025-09-02", "2026-01-01", "2026-04-27", "2026-04-30", "2026-05-01"],
        "absence_warning_at": 35,
    }
    terms = {
        "meal_cutoff": "08:30",
        "lunch_price": 30000,
        "breakfast_price": 15000,
        "nap_care_monthly_fee": 320000,
        "meal_refund": "notified_before_cutoff",
        "care_refund": "pro_rata",
        "kitchens": [{"name": "Bếp chính", "class_ids": []}],
        "policy_text": "Hoàn tiền ăn những ngày con nghỉ có báo trước 8 giờ 30; "
        "tiền bán trú tính theo ngày học.",
    }
    for path, body, wanted in (
        (f"/v1/attendance/schools/{school_id}/calendar", calendar, True),
        (f"/v1/boarding/schools/{school_id}/settings", terms, primary),
    ):
        if not wanted:
            continue
        for _ in range(60):  # attendance learns of the school from its classes' events
            response = await api.put(path, json=body)
            if response.status_code != 404:
                break
            await asyncio.sleep(0.5)
        if response.status_code != 200:
            raise RuntimeError(f"seeding {path} failed: {response.status_code} {response.text[:300]}")


async def import_staff(api: httpx.AsyncClient, workbook: bytes) -> dict[str, Any]:
    """Import the staff list; identity learns schools and classes from events, so wait for them."""
    import asyncio

    report: dict[str, Any] = {}
    for _ in range(60):
        response = await api.post(
            "/v1/staff/imports",
            files={"file": ("staff.xlsx", workbook, XLSX)},
        )
        if response.status_code != 200:
            raise RuntimeError(f"seeding the staff failed: {response.status_code} {response.text[:300]}")
        report = dict(response.json())
        waiting = [
            p
            for row in report["rows"]
            for p in row.get("problems", [])
            if p["reason"] in ("UNKNOWN_SCHOOL_CODE", "UNKNOWN_CLASS")
        ]
        if not waiting:
            break
        await asyncio.sleep(0.5)
    refused = [row for row in report.get("rows", []) if row.get("outcome") == "refused"]
    if refused:
        raise RuntimeError(f"seeding the staff: rows refused: {refused}")
    return {k: report[k] for k in ("created", "updated", "unchanged", "refused") if k in report}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
