"""A student reads their own record with their own verified identity — results, transcripts, diplomas —
as they will after graduation, for life; they change nothing and read nobody else's."""

from __future__ import annotations

from typing import Any

import pytest
from school_common.testing.oidc import vneid_sign_in

pytestmark = pytest.mark.e2e
KHOA = "079212003456"  # Nguyễn Minh Khoa, THCS Lê Quý Đôn 8A1, 14: a VNeID citizen of level 2


def family(stack: dict[str, Any], school_code: str) -> str:
    return next(f["student_id"] for f in stack["demo_data"]["demo"]["families"] if f["school"] == school_code)


async def test_a_student_reads_their_own_record_and_nobody_elses(stack, client_for) -> None:
    kc = stack["keycloak"]
    token = (await vneid_sign_in(kc["realms"]["demo"], kc["vneid"]["issuer"], KHOA, "Demo@2026"))[
        "access_token"
    ]
    khoa, brother = family(stack, "79000702"), family(stack, "79000701")
    with client_for(token) as student:
        me = student.get("/v1/me")
        assert me.status_code == 200, me.text
        assert [(r["student_id"], r["relationship"]) for r in me.json()["own_records"]] == [(khoa, "self")]
        own = student.get(f"/v1/students/{khoa}")
        assert own.status_code == 200, own.text
        assert own.json()["full_name"] == "Nguyễn Minh Khoa"
        # minimal data: his guardians' names, not their phones
        assert all(g.get("phone") in (None, "") for g in own.json()["guardians"])
        for path in ("results", "transcripts", "diplomas", "violations"):
            response = student.get(f"/v1/students/{khoa}/{path}")
            assert response.status_code == 200, (path, response.text)
        results = student.get(f"/v1/students/{khoa}/results").json()
        for term in results["terms"]:  # what the school has not published is not shown to him either
            if not term["published"]:
                assert term["learning"] is None
        # another student, even his brother, is not his to read
        assert student.get(f"/v1/students/{brother}").status_code == 403
        # and his own record is not his to write
        refused = student.post(
            f"/v1/students/{khoa}/violations",
            json={"occurred_on": "2025-11-20", "description": "x", "severity": "self", "measure": "reminder"},
        )
        assert refused.status_code == 403
