"""Discipline and rewards by Circular 19/2025 through the gateway, on the seeded demo tenant."""

from __future__ import annotations

from typing import Any

import pytest
from school_common.testing.oidc import vneid_sign_in

pytestmark = pytest.mark.e2e
MAI = "079185001234"  # mother of Nguyễn Minh Khoa (THCS Lê Quý Đôn, 8A1) and Lê Gia Bảo (Nguyễn Trãi, 4A)


def family(stack: dict[str, Any], school_code: str) -> str:
    return next(f["student_id"] for f in stack["demo_data"]["demo"]["families"] if f["school"] == school_code)


def seeded_class(stack: dict[str, Any], school_word: str, name: str) -> dict[str, Any]:
    school = next(s for s in stack["demo_data"]["demo"]["schools"] if school_word in s["name"])
    return next(c for c in school["classes"] if c["name"] == name)


def body(measure: str, **fields: Any) -> dict[str, Any]:
    return {
        "occurred_on": "2025-11-20",
        "description": "Sử dụng điện thoại trong giờ học",
        "severity": "self",
        "measure": measure,
    } | fields


async def test_a_self_review_is_recorded_by_the_school_and_confirmed_by_the_family(
    stack, tokens, client_for
) -> None:
    khoa = family(stack, "79000702")
    with client_for(tokens.named("demo", "thcs.lequydon.admin")) as admin:
        recorded = admin.post(f"/v1/students/{khoa}/violations", json=body("self_review"))
        assert recorded.status_code == 201, recorded.text
        violation = recorded.json()
        assert violation["measure"] == "self_review"
        assert violation["family_confirmed_at"] is None
    kc = stack["keycloak"]
    token = (await vneid_sign_in(kc["realms"]["demo"], kc["vneid"]["issuer"], MAI, "Demo@2026"))[
        "access_token"
    ]
    with client_for(token) as parent:
        listed = parent.get(f"/v1/students/{khoa}/violations")
        assert listed.status_code == 200, listed.text
        assert violation["id"] in [v["id"] for v in listed.json()["items"]]
        confirmed = parent.post(f"/v1/violations/{violation['id']}/self-review-confirmation")
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["family_confirmed_at"]
        refused = parent.post(f"/v1/students/{khoa}/violations", json=body("reminder"))
        assert refused.status_code == 403


def test_suspension_and_expulsion_cannot_be_recorded(tokens, client_for, stack) -> None:
    student = seeded_class(stack, "Lê Quý Đôn", "6A1")["students"][0]
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as homeroom:  # homeroom teacher of 6A1
        before = len(homeroom.get(f"/v1/students/{student}/violations").json()["items"])
        for measure in ("suspension", "expulsion"):
            response = homeroom.post(f"/v1/students/{student}/violations", json=body(measure))
            assert response.status_code == 422, response.text
            assert response.json()["reason"] == "MEASURE_NOT_ALLOWED"
        criticism = homeroom.post(f"/v1/students/{student}/violations", json=body("criticism"))
        assert criticism.status_code == 201, criticism.text
        after = homeroom.get(f"/v1/students/{student}/violations").json()["items"]
        assert len(after) == before + 1


def test_measures_follow_the_school_level_and_the_teachers_class(tokens, client_for, stack) -> None:
    bao = family(stack, "79000701")  # primary, 4A
    with client_for(tokens.named("demo", "th.nguyentrai.admin")) as admin:
        apology = admin.post(f"/v1/students/{bao}/violations", json=body("apology", severity="class"))
        assert apology.status_code == 201, apology.text
        criticism = admin.post(f"/v1/students/{bao}/violations", json=body("criticism"))
        assert criticism.status_code == 422
        assert criticism.json()["reason"] == "MEASURE_NOT_ALLOWED_AT_LEVEL"
        reward = admin.post(
            f"/v1/students/{bao}/rewards",
            json={
                "kind": "praise_school",
                "reason": "Nhặt được của rơi trả người đánh mất",
                "awarded_on": "2025-11-21",
            },
        )
        assert reward.status_code == 201, reward.text
    khoa = family(stack, "79000702")  # 8A1: gv.nguyenthihoa teaches there but is not its homeroom teacher
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        assert teacher.get(f"/v1/students/{khoa}/violations").status_code == 200
        refused = teacher.post(f"/v1/students/{khoa}/violations", json=body("reminder"))
        assert refused.status_code == 403
        assert refused.json()["reason"] == "WRITE_NOT_ALLOWED"
