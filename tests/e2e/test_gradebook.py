"""The gradebook through the gateway on the demo tenant (THCS Lê Quý Đôn): the maths teacher enters a whole
class in one request, bad scores are refused with their reason and field, the school locks the semester,
a change after the lock is requested by the teacher and approved by the principal, and the trail shows it.

Repeatable on a persistent stack: each run makes its own class in a school year nobody has locked (locks
are per school and school year), and gives the demo teacher gv.nguyenthihoa that class through the staff
import (the route that assigns teachers), putting her seeded row back afterwards."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

TEACHER = "gv.nguyenthihoa"
PRINCIPAL = "thcs.lequydon.admin"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REG, MID, END = "regular", "mid_term", "end_term"


def lequydon(stack: dict[str, Any]) -> dict[str, Any]:
    return dict(next(s for s in stack["demo_data"]["demo"]["schools"] if "Lê Quý Đôn" in s["name"]))


def teacher_row(extra_class: str | None = None) -> list[str]:
    """gv.nguyenthihoa's row of the seeded staff list, teaching maths in one more class if given."""
    from school_stack.seed import STAFF

    row = next(r for r in STAFF["demo"] if r[4] == f"{TEACHER}@demo.school.local")
    return [*row[:9], f"{row[9]}, {extra_class}"] if extra_class else list(row)


def import_row(admin: httpx.Client, row: list[str]) -> dict[str, Any]:
    """Imports one staff row; identity learns new classes from events, so wait for the class to be known."""
    from school_stack.seed import staff_workbook

    deadline = time.monotonic() + 30
    while True:
        response = admin.post(
            "/v1/staff/imports", files={"file": ("staff.xlsx", staff_workbook([row]), XLSX)}
        )
        assert response.status_code == 200, response.text
        [result] = response.json()["rows"]
        reasons = [p["reason"] for p in result["problems"]]
        if "UNKNOWN_CLASS" not in reasons or time.monotonic() > deadline:
            assert result["outcome"] in ("updated", "unchanged"), result
            return dict(result)
        time.sleep(0.5)


def free_school_year(principal: httpx.Client, school_id: str) -> str:
    """A school year between 2030 and 2090 with no locked semester at the school."""
    years = principal.get(f"/v1/schools/{school_id}/school-years")
    assert years.status_code == 200, years.text
    locked = {y["name"] for y in years.json()["items"] if y["locked_semesters"]}
    while True:
        first = 2030 + secrets.randbelow(60)
        name = f"{first}-{first + 1}"
        if name not in locked:
            return name


def eventually(call: Any, timeout_s: float = 10) -> httpx.Response:
    """``call()`` until it is not a 403, or the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        response: httpx.Response = call()
        if response.status_code != 403 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def sheet(entries: list[tuple[str, str, int, str]]) -> dict[str, Any]:
    return {
        "entries": [
            {"student_id": student, "kind": kind, "ordinal": ordinal, "value": value}
            for student, kind, ordinal, value in entries
        ]
    }


def row_of(book: dict[str, Any], student: str) -> dict[str, Any]:
    return dict(next(r for r in book["rows"] if r["student_id"] == student))


def test_a_semester_of_maths_from_entry_to_an_approved_change(stack, tokens, client_for, admin) -> None:
    school = lequydon(stack)
    suffix = uuid.uuid4().hex[:6]
    class_name = f"6T{suffix}"  # never a seeded name: the staff import resolves classes by name
    with (
        client_for(tokens.named("demo", PRINCIPAL)) as principal,
        client_for(tokens.named("demo", TEACHER)) as teacher,
    ):
        year = free_school_year(principal, school["id"])
        first = int(year[:4])
        created = principal.post(
            f"/v1/schools/{school['id']}/classes", json={"name": class_name, "grade": 6, "school_year": year}
        )
        assert created.status_code == 201, created.text
        class_id = created.json()["id"]
        defined = principal.put(
            f"/v1/schools/{school['id']}/school-years/{year}",
            json={
                "semester_1_start": f"{first}-09-05",
                "semester_1_end": f"{first + 1}-01-10",
                "semester_2_start": f"{first + 1}-01-12",
                "semester_2_end": f"{first + 1}-05-25",
            },
        )
        assert defined.status_code == 200, defined.text
        assert defined.json()["locked_semesters"] == []
        students = []
        for n, name in enumerate(["Phan Bảo Ngọc", "Trịnh Quang Vinh", "Lý Thu Hà", "Mai Đức Anh"]):
            enrolled = principal.post(
                f"/v1/classes/{class_id}/students",
                json={
                    "student": {
                        "full_name": name,
                        "date_of_birth": f"2014-0{n + 1}-1{n}",  # plausible today: the service checks the age
                        "sex": "female" if n % 2 == 0 else "male",
                    }
                },
            )
            assert enrolled.status_code == 201, enrolled.text
            students.append(enrolled.json()["student"]["id"])
        ngoc, vinh, ha, duc = students

        subjects = principal.get("/v1/curriculum/grades/6/subjects")
        assert subjects.status_code == 200, subjects.text
        maths = next(s for s in subjects.json()["items"] if s["code"] == "TOAN")
        assert (maths["evaluation"], maths["regular_assessments"]) == ("scored", 4)

        book_path = f"/v1/classes/{class_id}/gradebook/TOAN/semesters/1"
        scores = sheet(
            [(ngoc, REG, i, v) for i, v in enumerate(["8", "7,5", "9", "8.0"], 1)]
            + [(ngoc, MID, 1, "8"), (ngoc, END, 1, "8,5")]
            + [(vinh, REG, i, "7") for i in range(1, 5)]
            + [(vinh, MID, 1, "7"), (vinh, END, 1, "7")]
            + [(ha, REG, i, v) for i, v in enumerate(["10", "9", "10", "9"], 1)]
            + [(ha, MID, 1, "10"), (ha, END, 1, "10")]
            + [(duc, REG, i, "6,5") for i in range(1, 5)]
            + [(duc, MID, 1, "6")]  # the end-term test is still to come
        )

        # Not her class yet: only the subject's teachers in the class (and school admins) enter scores.
        refused = teacher.put(book_path, json=scores)
        assert refused.status_code == 403, refused.text
        assert refused.json()["reason"] == "NOT_YOUR_CLASS"

        import_row(admin, teacher_row(class_name))
        try:
            # The whole class in one request; the same sheet again writes nothing. (A refusal refreshes the
            # caller's cached scope at most once a second, so the new assignment may take a moment.)
            entered = eventually(lambda: teacher.put(book_path, json=scores))
            assert entered.status_code == 200, entered.text
            assert entered.json() == {"written": 23, "unchanged": 0}
            again = teacher.put(book_path, json=scores)
            assert again.json() == {"written": 0, "unchanged": 23}

            book = teacher.get(book_path)
            assert book.status_code == 200, book.text
            before = book.json()
            assert (before["locked"], before["subject"]["code"], before["semester"]) == (False, "TOAN", 1)
            # (8 + 7.5 + 9 + 8 + 2·8 + 3·8.5) / 9 = 8.22… → 8,2
            assert row_of(before, ngoc)["result"] == "8,2"
            assert [c["display"] for c in row_of(before, ngoc)["cells"] if c["kind"] == REG] == [
                "8",
                "7,5",
                "9",
                "8",
            ]
            assert row_of(before, vinh)["result"] == "7,0"
            assert row_of(before, ha)["result"] == "9,8"
            assert (row_of(before, duc)["result"], row_of(before, duc)["missing"]) == (None, ["END_TERM"])
            assert "rank" not in book.text

            # Bad values: 422 with the reason and the field, and nothing changes.
            for value in ("10,5", "8,55"):
                bad = teacher.put(book_path, json=sheet([(vinh, REG, 1, "8"), (ngoc, END, 1, value)]))
                assert bad.status_code == 422, bad.text
                assert bad.headers["content-type"] == "application/problem+json"
                assert bad.json()["reason"] == "INVALID_SCORE"
                assert [e["field"] for e in bad.json()["errors"]] == ["entries[1].value"]
            fifth = teacher.put(book_path, json=sheet([(vinh, REG, 5, "8")]))
            assert fifth.status_code == 422, fifth.text
            assert fifth.json()["reason"] == "TOO_MANY_REGULAR_SCORES"
            assert [e["field"] for e in fifth.json()["errors"]] == ["entries[0].ordinal"]
            assert teacher.get(book_path).json()["rows"] == before["rows"]

            # She is not this class's homeroom teacher: conduct is not hers to rate.
            conduct = {"entries": [{"student_id": ngoc, "value": "Tốt"}]}
            not_homeroom = teacher.put(f"/v1/classes/{class_id}/ratings/semesters/1", json=conduct)
            assert not_homeroom.status_code == 403, not_homeroom.text
            rated = principal.put(f"/v1/classes/{class_id}/ratings/semesters/1", json=conduct)
            assert rated.status_code == 200, rated.text
            assert rated.json() == {"written": 1, "unchanged": 0}

            # The school locks semester I; a teacher cannot.
            lock_path = f"/v1/schools/{school['id']}/school-years/{year}/semesters/1/lock"
            assert teacher.post(lock_path).status_code == 403
            locked = principal.post(lock_path)
            assert locked.status_code == 200, locked.text
            assert locked.json()["locked_semesters"] == [1]
            after_lock = teacher.put(book_path, json=sheet([(ngoc, END, 1, "9")]))
            assert after_lock.status_code == 422, after_lock.text
            assert after_lock.json()["reason"] == "SEMESTER_LOCKED"

            # A change after the lock: the teacher asks, with a reason; the principal decides.
            me = teacher.get("/v1/me").json()["subject"]
            principal_subject = principal.get("/v1/me").json()["subject"]
            change_body = {
                "subject_code": "TOAN",
                "semester": 1,
                "entry": {"student_id": ngoc, "kind": END, "value": "9"},
                "reason": "Cộng nhầm điểm bài kiểm tra cuối kì",
            }
            key = {"Idempotency-Key": f"gradebook-e2e-{suffix}"}
            asked = teacher.post(f"/v1/classes/{class_id}/grade-changes", json=change_body, headers=key)
            assert asked.status_code == 201, asked.text
            change = asked.json()
            assert (change["old_value"], change["new_value"], change["state"]) == ("8.5", "9", "pending")
            assert (change["requested_by"], change["school_year"]) == (me, year)
            retried = teacher.post(f"/v1/classes/{class_id}/grade-changes", json=change_body, headers=key)
            assert retried.json()["id"] == change["id"]
            decision = f"/v1/grade-changes/{change['id']}/decision"
            assert teacher.post(decision, json={"approve": True}).status_code == 403
            no_note = principal.post(decision, json={"approve": False})
            assert no_note.status_code == 422
            assert [e["field"] for e in no_note.json()["errors"]] == ["note"]
            approved = principal.post(decision, json={"approve": True, "note": "Đã xem lại bài thi"})
            assert approved.status_code == 200, approved.text
            assert (approved.json()["state"], approved.json()["decided_by"]) == (
                "approved",
                principal_subject,
            )

            after = teacher.get(book_path).json()
            assert after["locked"] is True
            assert [c["value"] for c in row_of(after, ngoc)["cells"] if c["kind"] == END] == ["9"]
            assert row_of(after, ngoc)["result"] == "8,4"  # (8 + 7.5 + 9 + 8 + 16 + 27) / 9 = 8.39
            assert row_of(after, vinh) == row_of(before, vinh)

            # Nobody decides their own request, the principal included.
            own = principal.post(
                f"/v1/classes/{class_id}/grade-changes",
                json={
                    **change_body,
                    "entry": {"student_id": duc, "kind": END, "value": "6"},
                    "reason": "Bổ sung",
                },
            )
            assert own.status_code == 201, own.text
            own_decision = principal.post(
                f"/v1/grade-changes/{own.json()['id']}/decision", json={"approve": True}
            )
            assert own_decision.status_code == 403, own_decision.text
            assert own_decision.json()["reason"] == "OWN_REQUEST"

            # The trail: old and new values, who asked, who decided, why.
            trail = principal.get(f"/v1/schools/{school['id']}/grade-changes", params={"state": "approved"})
            assert trail.status_code == 200, trail.text
            mine = next(c for c in trail.json()["items"] if c["id"] == change["id"])
            assert (mine["old_value"], mine["new_value"], mine["requested_by"], mine["decided_by"]) == (
                "8.5",
                "9",
                me,
                principal_subject,
            )
            assert (mine["reason"], mine["decision_note"]) == (
                "Cộng nhầm điểm bài kiểm tra cuối kì",
                "Đã xem lại bài thi",
            )
            assert own.json()["id"] not in [c["id"] for c in trail.json()["items"]]  # still pending
            teachers_view = teacher.get(f"/v1/schools/{school['id']}/grade-changes")
            assert teachers_view.status_code == 200, teachers_view.text
            assert {c["requested_by"] for c in teachers_view.json()["items"]} == {me}  # her own only

            # Results, with the subject's semester average, and their publication once locked.
            results = principal.get(f"/v1/students/{ngoc}/results", params={"school_year": year})
            assert results.status_code == 200, results.text
            semester = next(t for t in results.json()["terms"] if t["term"] == "semester_1")
            assert next(s for s in semester["subjects"] if s["subject_code"] == "TOAN")["display"] == "8,4"
            assert "rank" not in results.text
            published = principal.post(f"/v1/classes/{class_id}/results/semester_1/publication")
            assert published.status_code == 200, published.text
            assert published.json()["students"] == 4
            year_too_soon = principal.post(f"/v1/classes/{class_id}/results/year/publication")
            assert year_too_soon.status_code == 422
            assert year_too_soon.json()["reason"] == "SEMESTER_NOT_LOCKED"
            years = principal.get(f"/v1/schools/{school['id']}/school-years").json()["items"]
            assert next(y for y in years if y["name"] == year)["locked_semesters"] == [1]
        finally:
            import_row(admin, teacher_row())  # her seeded assignments, as the demo data has them
