"""School clubs through the gateway on the demo tenant: the school creates a club, a parent signed in with
VNeID asks for their child, the adviser decides and records a session."""

from __future__ import annotations

import uuid

import pytest
from school_common.testing.oidc import vneid_sign_in

pytestmark = pytest.mark.e2e
MAI = "079185001234"


async def test_a_club_from_creation_to_a_session(stack, tokens, client_for) -> None:
    demo = stack["demo_data"]["demo"]
    school = next(s for s in demo["schools"] if "Lê Quý Đôn" in s["name"])
    khoa = next(f["student_id"] for f in demo["families"] if f["school"] == "79000702")
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        adviser = teacher.get("/v1/me").json()["subject"]
        refused = teacher.post(
            f"/v1/schools/{school['id']}/clubs", json={"name": "CLB Cờ vua", "adviser_subject": adviser}
        )
        assert refused.status_code == 403  # a teacher does not create clubs
    with client_for(tokens.named("demo", "thcs.lequydon.admin")) as admin:
        created = admin.post(
            f"/v1/schools/{school['id']}/clubs",
            json={"name": f"CLB Cờ vua {uuid.uuid4().hex[:4]}", "adviser_subject": adviser, "capacity": 20},
        )
        assert created.status_code == 201, created.text
        club = created.json()
    kc = stack["keycloak"]
    token = (await vneid_sign_in(kc["realms"]["demo"], kc["vneid"]["issuer"], MAI, "Demo@2026"))[
        "access_token"
    ]
    with client_for(token) as parent:
        asked = parent.post(f"/v1/clubs/{club['id']}/memberships", json={"student_id": khoa})
        assert asked.status_code == 201, asked.text
        membership = asked.json()
        assert membership["state"] == "pending"
        assert (
            parent.post(
                f"/v1/club-memberships/{membership['id']}/decision", json={"approve": True}
            ).status_code
            == 403
        )
    with client_for(tokens.named("demo", "gv.nguyenthihoa")) as teacher:
        approved = teacher.post(f"/v1/club-memberships/{membership['id']}/decision", json={"approve": True})
        assert approved.status_code == 200, approved.text
        session = teacher.post(
            f"/v1/clubs/{club['id']}/sessions",
            json={"held_on": "2025-11-20", "topic": "Khai cuộc", "present_student_ids": [khoa]},
        )
        assert session.status_code == 201, session.text
        members = teacher.get(f"/v1/clubs/{club['id']}/members").json()
        assert [(m["student_id"], m["sessions_attended"]) for m in members["items"]] == [(khoa, 1)]
    with client_for(token) as parent:
        mine = parent.get(f"/v1/students/{khoa}/clubs").json()["items"]
        entry = next(c for c in mine if c["club"]["id"] == club["id"])
        assert entry["membership"]["state"] == "approved"
        assert entry["membership"]["sessions_attended"] == 1
