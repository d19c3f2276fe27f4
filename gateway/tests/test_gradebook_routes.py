"""REST ↔ student-record gRPC: the gradebook — subjects, school years and locks, bulk entry of assessments
and ratings, changes after the lock, results with their explanations, publication (against the shared fake
student-record, ``support.FakeStudentRecord``)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from school.identity.v1 import identity_pb2 as idn
from school.student_record.v1 import student_record_pb2 as sr

from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.support import (
    CHANGE_ID,
    CLASS_ID,
    DATES,
    OTHER_SCHOOL_ID,
    OTHER_STUDENT_ID,
    PRINCIPAL_SUBJECT,
    SCHOOL_ID,
    STUDENT_ID,
    TEACHER,
    Failure,
    Fakes,
    GatewayClient,
    MakeToken,
    bearer,
    platform_token,
    teacher_scope,
)
from gateway.tests.test_routes import assert_problem

SCHOOL_ADMIN = "0193a4c2-0000-7000-8000-00000000000b"

SUBJECTS = "/v1/curriculum/grades/6/subjects"
YEAR = f"/v1/schools/{SCHOOL_ID}/school-years/2025-2026"
YEARS = f"/v1/schools/{SCHOOL_ID}/school-years"
LOCK = f"{YEAR}/semesters/1/lock"
BOOK = f"/v1/classes/{CLASS_ID}/gradebook/TOAN/semesters/1"
RATINGS = f"/v1/classes/{CLASS_ID}/ratings/semesters/1"
CHANGES = f"/v1/classes/{CLASS_ID}/grade-changes"
SCHOOL_CHANGES = f"/v1/schools/{SCHOOL_ID}/grade-changes"
DECISION = f"/v1/grade-changes/{CHANGE_ID}/decision"
RESULTS = f"/v1/students/{STUDENT_ID}/results"
PUBLICATION = f"/v1/classes/{CLASS_ID}/results/year/publication"

SHEET: dict[str, Any] = {
    "entries": [
        {"student_id": STUDENT_ID, "kind": "regular", "ordinal": 1, "value": "8,5"},
        {"student_id": STUDENT_ID, "kind": "regular", "ordinal": 2, "value": "7"},
        {"student_id": STUDENT_ID, "kind": "mid_term", "value": "8"},
        {"student_id": OTHER_STUDENT_ID, "kind": "end_term", "ordinal": 1, "value": ""},
    ]
}
CHANGE: dict[str, Any] = {
    "subject_code": "TOAN",
    "semester": 1,
    "entry": {"student_id": STUDENT_ID, "kind": "end_term", "value": "7"},
    "reason": "Cộng nhầm điểm bài cuối kì",
}


def sr_calls(fakes: Fakes, method: str) -> list[Any]:
    return [c.request for c in fakes.student_record.recorder.calls if c.method == method]


def scope_calls(fakes: Fakes) -> int:
    return fakes.identity.recorder.methods().count("GetAccessScope")


def fail(
    fakes: Fakes, method: str, code: grpc.StatusCode, reason: str, message: str, **metadata: str
) -> None:
    fakes.student_record.recorder.failures[method] = Failure(code, message, reason, metadata)


@pytest.fixture
def teacher(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[TEACHER] = teacher_scope(TEACHER)
    return make_token(subject=TEACHER, roles=("teacher",))


@pytest.fixture
def school_admin(fakes: Fakes, make_token: MakeToken) -> str:
    fakes.identity.recorder.scopes[SCHOOL_ADMIN] = idn.GetAccessScopeResponse(
        subject=SCHOOL_ADMIN, schools=[idn.ScopedSchool(school_id=SCHOOL_ID, role="school_admin")]
    )
    return make_token(subject=SCHOOL_ADMIN, roles=("school_admin",))


# The curriculum


async def test_list_subjects(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(SUBJECTS, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "code": "TOAN",
                "name": "Toán",
                "name_en": "Mathematics",
                "evaluation": "scored",
                "periods_per_year": 140,
                "regular_assessments": 4,
                "tested": False,
                "mid_tested": False,
                "elective": False,
            },
            {
                "code": "GDTC",
                "name": "Giáo dục thể chất",
                "name_en": "Physical education",
                "evaluation": "comment",
                "periods_per_year": 0,
                "regular_assessments": 0,
                "tested": False,
                "mid_tested": False,
                "elective": False,
            },
        ]
    }
    assert sr_calls(fakes, "ListSubjects") == [sr.ListSubjectsRequest(grade=6)]
    assert scope_calls(fakes) == 0


@pytest.mark.parametrize("grade", ["0", "13", "sáu", "6a", "-1"])
async def test_list_subjects_bad_grade(client: GatewayClient, fakes: Fakes, token: str, grade: str) -> None:
    response = await client.get(f"/v1/curriculum/grades/{grade}/subjects", headers=bearer(token))
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["grade"]
    assert fakes.student_record.recorder.calls == []


# School years and locks (access decided at the edge)


async def test_define_school_year(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.put(
        f"/v1/schools/{SCHOOL_ID.upper()}/school-years/2025-2026", headers=bearer(school_admin), json=DATES
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"school_id": SCHOOL_ID, "name": "2025-2026", **DATES, "locked_semesters": []}
    assert sr_calls(fakes, "DefineSchoolYear") == [
        sr.DefineSchoolYearRequest(school_id=SCHOOL_ID, name="2025-2026", **DATES)
    ]
    assert scope_calls(fakes) == 1


async def test_only_the_schools_admin_defines_a_year(
    client: GatewayClient, fakes: Fakes, teacher: str
) -> None:
    assert_problem(await client.put(YEAR, headers=bearer(teacher), json=DATES), 403, "ADMIN_ROLE_REQUIRED")
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"semester_1_start": "2025-02-30"}, "semester_1_start"),
        ({"semester_2_end": "25/05/2026"}, "semester_2_end"),
        ({"semester_2_end": None}, "semester_2_end"),
        ({"semester_1_end": 20260110}, "semester_1_end"),
        ({"locked_semesters": [1]}, "locked_semesters"),
    ],
)
async def test_define_school_year_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    body = assert_problem(
        await client.put(YEAR, headers=bearer(token), json={**DATES, **change}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in body["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize("year", ["2025", "2025-26", "２０２５-２０２６"])
async def test_define_school_year_malformed_year(
    client: GatewayClient, fakes: Fakes, token: str, year: str
) -> None:
    response = await client.put(
        f"/v1/schools/{SCHOOL_ID}/school-years/{year}", headers=bearer(token), json=DATES
    )
    body = assert_problem(response, 422, "INVALID_ARGUMENT")
    assert [e["field"] for e in body["errors"]] == ["school_year"]
    assert fakes.student_record.recorder.calls == []


async def test_define_school_year_refusals_name_the_path_field(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    message = "Năm học có dạng 2025-2026 / school year must look like 2025-2026"
    fail(
        fakes, "DefineSchoolYear", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", message, field="name"
    )
    body = assert_problem(
        await client.put(
            f"/v1/schools/{SCHOOL_ID}/school-years/2025-2027", headers=bearer(token), json=DATES
        ),
        422,
        "INVALID_ARGUMENT",
    )
    assert body["errors"] == [{"field": "school_year", "message": message}]
    message = "Năm học đã có học kì khóa sổ / a semester of this year is already locked"
    fail(fakes, "DefineSchoolYear", grpc.StatusCode.FAILED_PRECONDITION, "SEMESTER_LOCKED", message)
    assert_problem(await client.put(YEAR, headers=bearer(token), json=DATES), 422, "SEMESTER_LOCKED")


async def test_list_school_years(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.get(YEARS, headers=bearer(teacher))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "school_id": SCHOOL_ID,
                "name": "2026-2027",
                "semester_1_start": None,
                "semester_1_end": None,
                "semester_2_start": None,
                "semester_2_end": None,
                "locked_semesters": [],
            },
            {"school_id": SCHOOL_ID, "name": "2025-2026", **DATES, "locked_semesters": [1]},
        ]
    }
    other = await client.get(f"/v1/schools/{OTHER_SCHOOL_ID}/school-years", headers=bearer(teacher))
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert fakes.student_record.recorder.methods() == ["ListSchoolYears"]


async def test_lock_semester(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.post(f"{YEAR}/semesters/2/lock", headers=bearer(school_admin))
    assert response.status_code == 200, response.text
    assert response.json()["locked_semesters"] == [1, 2]
    assert sr_calls(fakes, "LockSemester") == [
        sr.LockSemesterRequest(school_id=SCHOOL_ID, school_year="2025-2026", semester=2)
    ]


async def test_lock_semester_refusals(client: GatewayClient, fakes: Fakes, teacher: str, token: str) -> None:
    assert_problem(await client.post(LOCK, headers=bearer(teacher)), 403, "ADMIN_ROLE_REQUIRED")
    for semester in ("0", "3", "I"):
        body = assert_problem(
            await client.post(f"{YEAR}/semesters/{semester}/lock", headers=bearer(token)),
            422,
            "INVALID_ARGUMENT",
        )
        assert [e["field"] for e in body["errors"]] == ["semester"]
    assert fakes.student_record.recorder.calls == []
    fail(
        fakes,
        "LockSemester",
        grpc.StatusCode.FAILED_PRECONDITION,
        "EARLIER_SEMESTER_OPEN",
        "Hãy khóa sổ học kì I trước / lock semester I first",
    )
    assert_problem(
        await client.post(f"{YEAR}/semesters/2/lock", headers=bearer(token)), 422, "EARLIER_SEMESTER_OPEN"
    )


# Entering a class's values


async def test_record_assessments(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    sheet = {"entries": [{**e, "student_id": e["student_id"].upper()} for e in SHEET["entries"]]}
    response = await client.put(
        f"/v1/classes/{CLASS_ID.upper()}/gradebook/toan/semesters/1", headers=bearer(teacher), json=sheet
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"written": 3, "unchanged": 1}
    assert sr_calls(fakes, "RecordAssessments") == [
        sr.RecordAssessmentsRequest(
            class_id=CLASS_ID,  # lower-cased
            subject_code="TOAN",  # upper-cased
            semester=1,
            entries=[
                sr.AssessmentEntry(
                    student_id=STUDENT_ID, kind=sr.ASSESSMENT_KIND_REGULAR, ordinal=1, value="8,5"
                ),
                sr.AssessmentEntry(
                    student_id=STUDENT_ID, kind=sr.ASSESSMENT_KIND_REGULAR, ordinal=2, value="7"
                ),
                sr.AssessmentEntry(
                    student_id=STUDENT_ID, kind=sr.ASSESSMENT_KIND_MID_TERM, ordinal=1, value="8"
                ),
                sr.AssessmentEntry(
                    student_id=OTHER_STUDENT_ID, kind=sr.ASSESSMENT_KIND_END_TERM, ordinal=1, value=""
                ),
            ],
        )
    ]
    assert scope_calls(fakes) == 0  # student-record decides: it knows the class's school and teachers


async def test_every_kind_is_forwarded(client: GatewayClient, fakes: Fakes, token: str) -> None:
    kinds = {
        "regular": sr.ASSESSMENT_KIND_REGULAR,
        "mid_term": sr.ASSESSMENT_KIND_MID_TERM,
        "end_term": sr.ASSESSMENT_KIND_END_TERM,
        "mid_rating": sr.ASSESSMENT_KIND_MID_RATING,
        "end_rating": sr.ASSESSMENT_KIND_END_RATING,
        "mid_test": sr.ASSESSMENT_KIND_MID_TEST,
        "end_test": sr.ASSESSMENT_KIND_END_TEST,
    }
    entries = [{"student_id": STUDENT_ID, "kind": k, "value": "T"} for k in kinds]
    response = await client.put(BOOK, headers=bearer(token), json={"entries": entries})
    assert response.status_code == 200, response.text
    [request] = sr_calls(fakes, "RecordAssessments")
    assert [(e.kind, e.ordinal) for e in request.entries] == [(k, 1) for k in kinds.values()]


async def test_record_assessments_limits_are_accepted(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    entries = [
        {"student_id": STUDENT_ID, "kind": "regular", "ordinal": n % 100, "value": "1234567890123456"}
        for n in range(2000)
    ]
    response = await client.put(
        f"/v1/classes/{CLASS_ID}/gradebook/TOAN/semesters/2", headers=bearer(token), json={"entries": entries}
    )
    assert response.status_code == 200, response.text
    [request] = sr_calls(fakes, "RecordAssessments")
    assert (len(request.entries), request.semester) == (2000, 2)


def entry(**change: Any) -> dict[str, Any]:
    return {"entries": [{"student_id": STUDENT_ID, "kind": "regular", "ordinal": 1, "value": "8", **change}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (entry(kind="final"), "entries[0].kind"),
        (entry(kind="REGULAR"), "entries[0].kind"),
        (entry(kind=None), "entries[0].kind"),
        (entry(value="1" * 17), "entries[0].value"),
        (entry(value=8.5), "entries[0].value"),  # as typed: a string
        (entry(value=None), "entries[0].value"),
        (entry(ordinal=-1), "entries[0].ordinal"),
        (entry(ordinal=100), "entries[0].ordinal"),
        (entry(ordinal="1"), "entries[0].ordinal"),
        (entry(ordinal=1.5), "entries[0].ordinal"),
        (entry(student_id="an"), "entries[0].student_id"),
        (entry(student_id=STUDENT_ID + "0"), "entries[0].student_id"),
        (entry(rank=1), "entries[0].rank"),
        ({"entries": []}, "entries"),
        ({"entries": None}, "entries"),
        ({"entries": [None]}, "entries[0]"),
        ({}, "entries"),
        ({**SHEET, "semester": 1}, "semester"),
    ],
)
async def test_record_assessments_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.put(BOOK, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_at_most_2000_entries(client: GatewayClient, fakes: Fakes, token: str) -> None:
    body = {"entries": entry()["entries"] * 2001}
    problem = assert_problem(
        await client.put(BOOK, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert problem["errors"][0]["field"] == "entries"
    assert "2000" in problem["errors"][0]["message"]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("path", "status", "reason", "field"),
    [
        (f"/v1/classes/{CLASS_ID}/gradebook/TOAN/semesters/3", 422, "INVALID_ARGUMENT", "semester"),
        (f"/v1/classes/{CLASS_ID}/gradebook/TOAN/semesters/x", 422, "INVALID_ARGUMENT", "semester"),
        (f"/v1/classes/{CLASS_ID}/gradebook/TO%C3%81N/semesters/1", 422, "UNKNOWN_SUBJECT", "subject_code"),
        (f"/v1/classes/{CLASS_ID}/gradebook/{'T' * 33}/semesters/1", 422, "UNKNOWN_SUBJECT", "subject_code"),
        ("/v1/classes/6A1/gradebook/TOAN/semesters/1", 404, "CLASS_NOT_FOUND", None),
    ],
)
async def test_record_assessments_bad_paths(
    client: GatewayClient, fakes: Fakes, token: str, path: str, status: int, reason: str, field: str | None
) -> None:
    problem = assert_problem(await client.put(path, headers=bearer(token), json=SHEET), status, reason)
    assert [e["field"] for e in problem.get("errors", [])] == ([field] if field else [])
    assert fakes.student_record.recorder.calls == []


SCORE = "Điểm từ 0 đến 10, là số nguyên hoặc có một chữ số thập phân (ví dụ 8 hoặc 8,5) / a score is 0 to 10"


@pytest.mark.parametrize(
    ("code", "reason", "field", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SCORE", "entries[1].value", 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_REGULAR_SCORES", "entries[1].ordinal", 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "STUDENT_NOT_IN_CLASS", "entries[0].student_id", 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_SUBJECT", "subject_code", 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "SEMESTER_LOCKED", None, 422),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_SUBJECT", None, 403),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_CLASS", None, 403),
        (grpc.StatusCode.NOT_FOUND, "CLASS_NOT_FOUND", None, 404),
    ],
)
async def test_record_assessments_refused_by_the_service(
    client: GatewayClient,
    fakes: Fakes,
    teacher: str,
    code: grpc.StatusCode,
    reason: str,
    field: str | None,
    status: int,
) -> None:
    metadata = {"field": field} if field else {}
    fail(fakes, "RecordAssessments", code, reason, SCORE, **metadata)
    body = assert_problem(await client.put(BOOK, headers=bearer(teacher), json=SHEET), status, reason)
    assert body["detail"] == SCORE
    assert body.get("errors") == ([{"field": field, "message": SCORE}] if field else None)


async def test_get_class_gradebook(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.get(f"/v1/classes/{CLASS_ID}/gradebook/Toan/semesters/2", headers=bearer(teacher))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["class_id"] == CLASS_ID
    assert body["subject"]["code"] == "TOAN"
    assert (body["semester"], body["locked"]) == (2, True)
    assert body["rows"] == [
        {
            "student_id": STUDENT_ID,
            "full_name": "Nguyễn Văn An",
            "cells": [
                {"kind": "regular", "ordinal": 1, "value": "8.5", "display": "8,5"},
                {"kind": "mid_term", "ordinal": 1, "value": "8", "display": "8"},
                {"kind": None, "ordinal": 1, "value": "9", "display": "9"},
            ],
            "result": "8,3",
            "missing": [],
        },
        {
            "student_id": OTHER_STUDENT_ID,
            "full_name": "Lê Thị Hoa",
            "cells": [],
            "result": None,
            "missing": ["REGULAR 1", "END_TERM"],
        },
    ]
    assert sr_calls(fakes, "GetClassGradebook") == [
        sr.GetClassGradebookRequest(class_id=CLASS_ID, subject_code="TOAN", semester=2)
    ]
    assert "rank" not in response.text


async def test_families_do_not_read_a_class_gradebook(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    fail(
        fakes,
        "GetClassGradebook",
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_YOUR_CLASS",
        "Bạn không được phân công ở lớp này / you have no assignment in this class",
    )
    assert_problem(await client.get(BOOK, headers=bearer(token)), 403, "NOT_YOUR_CLASS")


# Ratings


async def test_record_ratings(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    body = {
        "entries": [
            {"student_id": STUDENT_ID.upper(), "value": "Tốt"},
            {"student_id": OTHER_STUDENT_ID, "item": "CHAM_CHI", "value": "Cần cố gắng"},
        ]
    }
    response = await client.put(RATINGS, headers=bearer(teacher), json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"written": 2, "unchanged": 0}
    assert sr_calls(fakes, "RecordRatings") == [
        sr.RecordRatingsRequest(
            class_id=CLASS_ID,
            semester=1,
            entries=[
                sr.RatingEntry(student_id=STUDENT_ID, item="CONDUCT", value="Tốt"),
                sr.RatingEntry(student_id=OTHER_STUDENT_ID, item="CHAM_CHI", value="Cần cố gắng"),
            ],
        )
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"value": ""}, "entries[0].value"),
        ({"value": "x" * 33}, "entries[0].value"),
        ({"item": ""}, "entries[0].item"),
        ({"item": "x" * 33}, "entries[0].item"),
        ({"student_id": None}, "entries[0].student_id"),
        ({"kind": "regular"}, "entries[0].kind"),
    ],
)
async def test_record_ratings_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    body = {"entries": [{"student_id": STUDENT_ID, "value": "Tốt", **change}]}
    problem = assert_problem(
        await client.put(RATINGS, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


async def test_record_ratings_refusals(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    body = {"entries": [{"student_id": STUDENT_ID, "value": "Xuất sắc"}]}
    message = "Mức rèn luyện là Tốt, Khá, Đạt hoặc Chưa đạt / conduct is Tốt, Khá, Đạt or Chưa đạt"
    fail(
        fakes,
        "RecordRatings",
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_CONDUCT",
        message,
        field="entries[0].value",
    )
    problem = assert_problem(
        await client.put(RATINGS, headers=bearer(teacher), json=body), 422, "INVALID_CONDUCT"
    )
    assert problem["errors"] == [{"field": "entries[0].value", "message": message}]
    fail(
        fakes,
        "RecordRatings",
        grpc.StatusCode.PERMISSION_DENIED,
        "HOMEROOM_TEACHER_ONLY",
        "Chỉ giáo viên chủ nhiệm / only the homeroom teacher",
    )
    assert_problem(
        await client.put(RATINGS, headers=bearer(teacher), json=body), 403, "HOMEROOM_TEACHER_ONLY"
    )


# Changes after the lock


async def test_request_grade_change(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    response = await client.post(
        CHANGES,
        headers={**bearer(teacher), "Idempotency-Key": "chg-1"},
        json={**CHANGE, "subject_code": "toan"},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": CHANGE_ID,
        "class_id": CLASS_ID,
        "student_id": STUDENT_ID,
        "subject_code": "TOAN",
        "school_year": "2025-2026",
        "semester": 1,
        "kind": "end_term",
        "ordinal": 1,
        "old_value": "6",
        "new_value": "7",
        "reason": "Cộng nhầm điểm bài cuối kì",
        "state": "pending",
        "requested_by": TEACHER,
        "requested_at": "2025-11-24T16:00:00Z",
        "decided_by": None,
        "decided_at": None,
        "decision_note": None,
    }
    assert sr_calls(fakes, "RequestGradeChange") == [
        sr.RequestGradeChangeRequest(
            class_id=CLASS_ID,
            subject_code="TOAN",
            semester=1,
            entry=sr.AssessmentEntry(
                student_id=STUDENT_ID, kind=sr.ASSESSMENT_KIND_END_TERM, ordinal=1, value="7"
            ),
            reason="Cộng nhầm điểm bài cuối kì",
            request_id="chg-1",
        )
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"semester": 3}, "semester"),
        ({"semester": "1"}, "semester"),
        ({"semester": True}, "semester"),
        ({"semester": 1.0}, "semester"),
        ({"subject_code": "TO AN"}, "subject_code"),
        ({"reason": ""}, "reason"),
        ({"reason": "r" * 501}, "reason"),
        ({"reason": None}, "reason"),
        ({"entry": None}, "entry"),
        (
            {"entry": {"student_id": STUDENT_ID, "kind": "end_term", "value": "7,25 điểm cuối kì"}},
            "entry.value",
        ),
        ({"entry": {"student_id": STUDENT_ID, "kind": "final", "value": "7"}}, "entry.kind"),
        ({"class_id": CLASS_ID}, "class_id"),
    ],
)
async def test_request_grade_change_bad_inputs(
    client: GatewayClient, fakes: Fakes, token: str, change: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        await client.post(CHANGES, headers=bearer(token), json={**CHANGE, **change}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("code", "reason", "field", "status"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, "SEMESTER_NOT_LOCKED", None, 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "VALUE_UNCHANGED", None, 422),
        (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SCORE", "entry.value", 422),
        (grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_SUBJECT", None, 403),
        (grpc.StatusCode.ABORTED, "REQUEST_IN_PROGRESS", None, 409),
    ],
)
async def test_request_grade_change_refused_by_the_service(
    client: GatewayClient,
    fakes: Fakes,
    teacher: str,
    code: grpc.StatusCode,
    reason: str,
    field: str | None,
    status: int,
) -> None:
    metadata = {"field": field} if field else {}
    fail(fakes, "RequestGradeChange", code, reason, "Không được / refused", **metadata)
    body = assert_problem(await client.post(CHANGES, headers=bearer(teacher), json=CHANGE), status, reason)
    assert [e["field"] for e in body.get("errors", [])] == ([field] if field else [])


async def test_approve_and_refuse_a_change(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    approved = await client.post(
        f"/v1/grade-changes/{CHANGE_ID.upper()}/decision",
        headers=bearer(school_admin),
        json={"approve": True},
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", PRINCIPAL_SUBJECT)
    assert approved.json()["decided_at"] == "2025-11-24T16:05:00Z"
    assert approved.json()["decision_note"] is None
    refused = await client.post(
        DECISION, headers=bearer(school_admin), json={"approve": False, "note": "Bài thi đúng là 6 điểm"}
    )
    assert refused.status_code == 200, refused.text
    assert (refused.json()["state"], refused.json()["decision_note"]) == ("refused", "Bài thi đúng là 6 điểm")
    assert sr_calls(fakes, "DecideGradeChange") == [
        sr.DecideGradeChangeRequest(change_id=CHANGE_ID, approve=True),
        sr.DecideGradeChangeRequest(change_id=CHANGE_ID, approve=False, note="Bài thi đúng là 6 điểm"),
    ]


async def test_refusing_a_change_needs_a_note(client: GatewayClient, fakes: Fakes, token: str) -> None:
    problem = assert_problem(
        await client.post(DECISION, headers=bearer(token), json={"approve": False}), 422, "INVALID_ARGUMENT"
    )
    assert [e["field"] for e in problem["errors"]] == ["note"]
    for body, field in (
        ({"approve": False, "note": ""}, "note"),
        ({"approve": "yes"}, "approve"),
        ({}, "approve"),
        ({"approve": True, "note": "n" * 501}, "note"),
    ):
        problem = assert_problem(
            await client.post(DECISION, headers=bearer(token), json=body), 422, "INVALID_ARGUMENT"
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    assert fakes.student_record.recorder.calls == []


@pytest.mark.parametrize(
    ("code", "reason", "status"),
    [
        (grpc.StatusCode.PERMISSION_DENIED, "OWN_REQUEST", 403),
        (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_ONLY", 403),
        (grpc.StatusCode.FAILED_PRECONDITION, "GRADE_CHANGE_ALREADY_DECIDED", 422),
        (grpc.StatusCode.FAILED_PRECONDITION, "VALUE_CHANGED_SINCE_REQUEST", 422),
        (grpc.StatusCode.NOT_FOUND, "GRADE_CHANGE_NOT_FOUND", 404),
    ],
)
async def test_decision_refused_by_the_service(
    client: GatewayClient, fakes: Fakes, school_admin: str, code: grpc.StatusCode, reason: str, status: int
) -> None:
    message = "Không tự duyệt đề nghị của mình / nobody approves their own request"
    fail(fakes, "DecideGradeChange", code, reason, message)
    body = assert_problem(
        await client.post(DECISION, headers=bearer(school_admin), json={"approve": True}), status, reason
    )
    assert body["detail"] == message


async def test_decision_on_a_malformed_id_is_not_found(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    response = await client.post(
        "/v1/grade-changes/chg-1/decision", headers=bearer(token), json={"approve": True}
    )
    assert_problem(response, 404, "GRADE_CHANGE_NOT_FOUND")
    assert fakes.student_record.recorder.calls == []


async def test_list_grade_changes(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    response = await client.get(SCHOOL_CHANGES, headers=bearer(school_admin), params={"state": "approved"})
    assert response.status_code == 200, response.text
    first, second = response.json()["items"]
    assert (first["old_value"], first["new_value"], first["requested_by"], first["decided_by"]) == (
        "6",
        "7",
        TEACHER,
        PRINCIPAL_SUBJECT,
    )
    assert (first["state"], first["reason"], first["decision_note"]) == (
        "approved",
        "Cộng nhầm điểm bài cuối kì",
        "Đã kiểm tra bài thi",
    )
    assert (second["old_value"], second["kind"], second["state"]) == (None, "mid_term", "pending")
    await client.get(SCHOOL_CHANGES, headers=bearer(school_admin))
    assert sr_calls(fakes, "ListGradeChanges") == [
        sr.ListGradeChangesRequest(school_id=SCHOOL_ID, state=sr.GRADE_CHANGE_STATE_APPROVED),
        sr.ListGradeChangesRequest(school_id=SCHOOL_ID),
    ]


async def test_list_grade_changes_refusals(client: GatewayClient, fakes: Fakes, school_admin: str) -> None:
    bad = await client.get(SCHOOL_CHANGES, headers=bearer(school_admin), params={"state": "done"})
    assert [e["field"] for e in assert_problem(bad, 422, "INVALID_ARGUMENT")["errors"]] == ["state"]
    other = await client.get(f"/v1/schools/{OTHER_SCHOOL_ID}/grade-changes", headers=bearer(school_admin))
    assert_problem(other, 403, "NOT_YOUR_SCHOOL")
    assert fakes.student_record.recorder.calls == []


# Results and publication


async def test_student_results(client: GatewayClient, fakes: Fakes, token: str) -> None:
    response = await client.get(RESULTS, headers=bearer(token), params={"school_year": "2025-2026"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["student_id"], body["school_year"], body["class_id"], body["grade"]) == (
        STUDENT_ID,
        "2025-2026",
        CLASS_ID,
        6,
    )
    semester, year = body["terms"]  # the unknown term 7 is left out
    assert semester == {
        "term": "semester_1",
        "subjects": [
            {
                "subject_code": "NGU_VAN",
                "subject_name": "Ngữ văn",
                "value": "6",
                "display": "6,0",
                "missing": [],
                "test_score": None,
            },
            {
                "subject_code": "TOAN",
                "subject_name": "Toán",
                "value": None,
                "display": None,
                "missing": ["END_TERM"],
                "test_score": None,
            },
        ],
        "learning": None,
        "learning_explanation": None,
        "conduct": None,
        "conduct_explanation": None,
        "promotion": None,
        "promotion_explanation": None,
        "award": None,
        "award_explanation": None,
        "primary_result": None,
        "primary_explanation": None,
        "incomplete": ["Toán"],
        "absent_sessions": None,
        "published": False,
    }
    assert year["term"] == "year"
    assert (year["learning"], year["conduct"], year["promotion"], year["award"]) == (
        "kha",
        "tot",
        "promoted",
        "none",
    )
    assert year["learning_explanation"] == {
        "rule": "KHA",
        "vi": "Vì KHA",
        "en": "Because KHA",
        "subjects": ["Ngữ văn"],
    }
    assert (year["absent_sessions"], year["published"], year["subjects"][1]["test_score"]) == (3, True, 7)
    assert sr_calls(fakes, "GetStudentResults") == [
        sr.GetStudentResultsRequest(student_id=STUDENT_ID, school_year="2025-2026")
    ]
    assert "rank" not in response.text


async def test_student_results_default_year_and_refusals(
    client: GatewayClient, fakes: Fakes, token: str
) -> None:
    assert (await client.get(RESULTS, headers=bearer(token))).status_code == 200
    assert sr_calls(fakes, "GetStudentResults") == [sr.GetStudentResultsRequest(student_id=STUDENT_ID)]
    bad = await client.get(RESULTS, headers=bearer(token), params={"school_year": "2025"})
    assert [e["field"] for e in assert_problem(bad, 422, "INVALID_ARGUMENT")["errors"]] == ["school_year"]
    assert_problem(
        await client.get("/v1/students/an/results", headers=bearer(token)), 404, "STUDENT_NOT_FOUND"
    )
    fail(
        fakes,
        "GetStudentResults",
        grpc.StatusCode.NOT_FOUND,
        "NO_ENROLMENT_IN_YEAR",
        "Học sinh không học năm học này / the student has no class that year",
    )
    assert_problem(await client.get(RESULTS, headers=bearer(token)), 404, "NO_ENROLMENT_IN_YEAR")


@pytest.mark.parametrize(("term", "pb_term"), [("semester_1", 1), ("semester_2", 2), ("year", 0)])
async def test_publish_results(
    client: GatewayClient, fakes: Fakes, school_admin: str, term: str, pb_term: int
) -> None:
    response = await client.post(
        f"/v1/classes/{CLASS_ID}/results/{term}/publication", headers=bearer(school_admin)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"published_at": "2025-11-24T16:10:00Z", "students": 32}
    assert sr_calls(fakes, "PublishResults") == [sr.PublishResultsRequest(class_id=CLASS_ID, term=pb_term)]


@pytest.mark.parametrize("term", ["0", "1", "3", "YEAR", "nam"])
async def test_publish_results_bad_term(client: GatewayClient, fakes: Fakes, token: str, term: str) -> None:
    response = await client.post(f"/v1/classes/{CLASS_ID}/results/{term}/publication", headers=bearer(token))
    assert [e["field"] for e in assert_problem(response, 422, "INVALID_ARGUMENT")["errors"]] == ["term"]
    assert fakes.student_record.recorder.calls == []


async def test_publish_results_refusals(client: GatewayClient, fakes: Fakes, teacher: str) -> None:
    fail(
        fakes,
        "PublishResults",
        grpc.StatusCode.FAILED_PRECONDITION,
        "SEMESTER_NOT_LOCKED",
        "Chỉ công bố kết quả sau khi khóa sổ học kì / results are published once the semester is locked",
    )
    assert_problem(await client.post(PUBLICATION, headers=bearer(teacher)), 422, "SEMESTER_NOT_LOCKED")


# Every route


ROUTES = [
    ("GET", SUBJECTS, None),
    ("PUT", YEAR, DATES),
    ("GET", YEARS, None),
    ("POST", LOCK, None),
    ("PUT", BOOK, SHEET),
    ("GET", BOOK, None),
    ("PUT", RATINGS, {"entries": [{"student_id": STUDENT_ID, "value": "Tốt"}]}),
    ("POST", CHANGES, CHANGE),
    ("GET", SCHOOL_CHANGES, None),
    ("POST", DECISION, {"approve": True}),
    ("GET", RESULTS, None),
    ("POST", PUBLICATION, None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_gradebook_routes_need_a_tenant_token(
    client: GatewayClient, fakes: Fakes, make_token: MakeToken, method: str, path: str, body: Any
) -> None:
    assert_problem(await client.request(method, path, json=body), 401, "MISSING_TOKEN")
    response = await client.request(method, path, headers=bearer(platform_token(make_token)), json=body)
    assert_problem(response, 403, "TENANT_TOKEN_REQUIRED")
    for backend in fakes.all():
        assert backend.recorder.calls == []


@pytest.mark.parametrize(("method", "path", "body"), [r for r in ROUTES if r[2] is not None])
async def test_gradebook_bodies_must_be_json(
    client: GatewayClient, fakes: Fakes, token: str, method: str, path: str, body: Any
) -> None:
    response = await client.request(
        method, path, headers={**bearer(token), "Content-Type": "text/plain"}, content=json.dumps(body)
    )
    assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert fakes.student_record.recorder.calls == []


def test_documented_gradebook() -> None:
    document = json.loads(json.dumps(create_app(GatewaySettings.model_construct()).openapi()))
    schemas = document["components"]["schemas"]
    for name in (
        "SchoolYearDefinition",
        "AssessmentEntryIn",
        "AssessmentsIn",
        "RatingEntryIn",
        "RatingsIn",
        "GradeChangeCreate",
        "GradeChangeDecision",
    ):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["AssessmentsIn"]["properties"]["entries"]["maxItems"] == 2000
    assert schemas["AssessmentEntryIn"]["properties"]["value"]["maxLength"] == 16
    assert schemas["AssessmentEntryIn"]["properties"]["kind"]["enum"] == [
        "regular",
        "mid_term",
        "end_term",
        "mid_rating",
        "end_rating",
        "mid_test",
        "end_test",
    ]
    semester = schemas["GradeChangeCreate"]["properties"]["semester"]
    assert (semester["type"], semester["minimum"], semester["maximum"]) == ("integer", 1, 2)
    operations = {
        op["operationId"]: (method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "gradebook" in op["tags"]
    }
    assert set(operations) == {
        "listSubjects",
        "defineSchoolYear",
        "listSchoolYears",
        "lockSemester",
        "recordAssessments",
        "getClassGradebook",
        "recordRatings",
        "requestGradeChange",
        "listGradeChanges",
        "decideGradeChange",
        "getStudentResults",
        "publishResults",
    }
    keyed = {
        name
        for name, (_, op) in operations.items()
        if "Idempotency-Key" in [p["name"] for p in op.get("parameters", [])]
    }
    assert keyed == {"requestGradeChange"}  # PUTs and the rest are idempotent by nature
    assert "201" in operations["requestGradeChange"][1]["responses"]
    for name in ("recordAssessments", "recordRatings", "defineSchoolYear"):
        assert operations[name][0] == "put", name
    for name in ("getStudentResults", "getClassGradebook", "recordAssessments", "decideGradeChange"):
        description = operations[name][1]["description"]
        assert " / " in description, name
    results = operations["getStudentResults"][1]["description"]
    assert "ranking" in results
    assert "published" in results
    for reason in ("INVALID_SCORE", "TOO_MANY_REGULAR_SCORES", "SEMESTER_LOCKED", "NOT_YOUR_SUBJECT"):
        assert reason in operations["recordAssessments"][1]["description"], reason
    assert "OWN_REQUEST" in operations["decideGradeChange"][1]["description"]
    # No rank, position or comparison in any response of the gradebook.
    text = json.dumps({k: schemas[k] for k in ("Gradebook", "GradebookRow", "StudentResults", "TermResult")})
    for word in ('"rank"', '"position"', '"percentile"'):
        assert word not in text
