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
            "classes": [("1A", 1), ("5A", 5)],
        },
        {
            "name": "Trường THCS Lê Quý Đôn",
            "code": "79000702",
            "levels": ["lower_secondary"],
            "classes": [("6A1", 6), ("9A1", 9)],
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
            result[slug] = {"schools": seeded}
    return result
