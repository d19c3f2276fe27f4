"""The gradebook's benchmarks: bulk score entry, and closing a school year with signed transcripts.

- ``gateway_scores_bulk``: a whole class's maths sheet for a semester (40 students × 4 regular + mid-term
  + end-term = 240 scores) in one ``PUT /v1/classes/{id}/gradebook/TOAN/semesters/1``, the values
  alternating so every request writes all of them; ``grpc_scores_bulk``: the same sheet straight to
  student-record's ``RecordAssessments`` — the baseline, so the gateway's share shows;
- ``close_year``: for one class, the school admin locks both semesters and issues the class's transcripts
  (results computed, PDF and XML rendered, three signatures each, stored); reported per student, the
  figure a school of 1,500 students scales from;
- ``verify_transcript``: the public verification (no token) of one issued transcript; the first call
  checks both documents' signatures, later ones are remembered by the documents' hashes (ratio of the
  two in the report).

Scores per second = requests per second × 240. Runs as the demo school admin of Lê Quý Đôn in a class of
a school year chosen at random, so repeated runs do not meet each other's locks.
"""

from __future__ import annotations

import random
import time
from typing import Any

import grpc
import httpx
from school.student_record.v1 import student_record_pb2 as pb
from school.student_record.v1 import student_record_pb2_grpc as pb_grpc

from bench.measure import Result, letters, load, result

SUBJECT_REGULARS = {"NGU_VAN": 4, "TOAN": 4, "NGOAI_NGU_1": 4, "GDCD": 2, "LICH_SU_DIA_LI": 4, "KHTN": 4,
                    "CONG_NGHE": 2, "TIN_HOC": 2}  # fmt: skip
COMMENT_REGULARS = {"GDTC": 3, "AM_NHAC": 2, "MI_THUAT": 2, "HDTN_HN": 4, "GDDP": 2}
CLASS_SIZE = 40


async def admin_token(stack: dict[str, Any]) -> str:
    kc = stack["keycloak"]
    realm = kc["realms"]["demo"]
    user = next(u for u in realm["users"] if u["username"] == "thcs.lequydon.admin")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{kc['base_url']}/realms/{realm['realm']}/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": realm["clients"]["dev_cli"],
                "username": user["username"],
                "password": user["password"],
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


async def make_class(api: httpx.AsyncClient) -> tuple[str, str, str, list[str]]:
    """(school id, class id, school year, student ids): a grade-6 class of 40 in a random year."""
    schools = (await api.get("/v1/schools")).json()["items"]
    school = next(s for s in schools if s.get("code") == "79000702")
    first = random.randrange(2031, 2099)
    year = f"{first}-{first + 1}"
    response = await api.post(
        f"/v1/schools/{school['id']}/classes", json={"name": "6Z", "grade": 6, "school_year": year}
    )
    response.raise_for_status()
    class_id = response.json()["id"]
    students = []
    for n in range(CLASS_SIZE):
        response = await api.post(
            f"/v1/classes/{class_id}/students",
            json={
                "student": {
                    "full_name": f"Học Sinh {letters(n)}",
                    "date_of_birth": "2014-06-01",
                    "sex": "male",
                }
            },
        )
        response.raise_for_status()
        students.append(response.json()["student"]["id"])
    return school["id"], class_id, year, students


def sheet(students: list[str], regular: int, values: tuple[str, str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for i, student in enumerate(students):
        value = values[i % 2]
        entries += [{"student_id": student, "kind": "regular", "ordinal": k, "value": value} for k in
                    range(1, regular + 1)]  # fmt: skip
        entries += [{"student_id": student, "kind": "mid_term", "value": value},
                    {"student_id": student, "kind": "end_term", "value": value}]  # fmt: skip
    return entries


async def score_entry(
    api: httpx.AsyncClient, stub: Any, metadata: tuple, class_id: str, students: list[str], args: Any
) -> list[Result]:
    counter = [0]

    def next_values() -> tuple[str, str]:
        """Scores no other request in flight writes (1,0 … 9,9 in turn), so every request writes all 240
        even when requests overlap."""
        counter[0] += 1
        n = counter[0] % 90
        return (f"{1 + n // 10},{n % 10}", f"{1 + (n + 45) % 90 // 10},{(n + 45) % 10}")

    async def gateway() -> bool:
        body = {"entries": sheet(students, 4, next_values())}
        response = await api.put(f"/v1/classes/{class_id}/gradebook/TOAN/semesters/1", json=body)
        return response.status_code == 200 and response.json()["written"] == len(body["entries"])

    async def direct() -> bool:
        values = next_values()
        request = pb.RecordAssessmentsRequest(
            class_id=class_id,
            subject_code="TOAN",
            semester=1,
            entries=[
                pb.AssessmentEntry(
                    student_id=e["student_id"],
                    kind=pb.AssessmentKind.Value(f"ASSESSMENT_KIND_{e['kind'].upper()}"),
                    ordinal=e.get("ordinal", 1),
                    value=e["value"],
                )
                for e in sheet(students, 4, values)
            ],
        )
        response = await stub.RecordAssessments(request, metadata=metadata, timeout=30)
        return response.written == len(request.entries)

    out = []
    for name, call in (("grpc_scores_bulk", direct), ("gateway_scores_bulk", gateway)):
        out.append(await load(name, call, args.score_requests, args.score_concurrency, 10))
        print(f"  {out[-1]}", flush=True)
    return out


async def fill_year(api: httpx.AsyncClient, class_id: str, students: list[str]) -> None:
    """Every assessment of both semesters and conduct: the results are complete, so transcripts issue."""
    for semester in (1, 2):
        for code, regular in SUBJECT_REGULARS.items():
            body = {"entries": sheet(students, regular, ("8", "9"))}
            response = await api.put(
                f"/v1/classes/{class_id}/gradebook/{code}/semesters/{semester}", json=body
            )
            response.raise_for_status()
        for code, regular in COMMENT_REGULARS.items():
            body = {"entries": sheet(students, regular, ("Đ", "Đ"))}
            response = await api.put(
                f"/v1/classes/{class_id}/gradebook/{code}/semesters/{semester}", json=body
            )
            response.raise_for_status()
        ratings = {"entries": [{"student_id": s, "item": "CONDUCT", "value": "Tốt"} for s in students]}
        response = await api.put(f"/v1/classes/{class_id}/ratings/semesters/{semester}", json=ratings)
        response.raise_for_status()


async def close_year(
    api: httpx.AsyncClient, school_id: str, class_id: str, year: str, students: list[str]
) -> tuple[Result, str]:
    """Locks both semesters and issues the class's transcripts; one sample, reported per student."""
    await fill_year(api, class_id, students)
    began = time.perf_counter()
    for semester in (1, 2):
        response = await api.post(f"/v1/schools/{school_id}/school-years/{year}/semesters/{semester}/lock")
        response.raise_for_status()
    response = await api.post(
        f"/v1/classes/{class_id}/transcripts",
        json={
            "homeroom_teacher_name": "Nguyễn Thị Hoa",
            "homeroom_teacher_subject": "bench-homeroom",
            "principal_name": "Trần Văn Bình",
            "principal_subject": "bench-principal",
        },
        timeout=600,
    )
    seconds = time.perf_counter() - began
    response.raise_for_status()
    issued = [s for s in response.json()["students"] if s["outcome"] == "issued"]
    per_student = [seconds * 1000 / max(1, len(issued))] * len(issued)
    return (
        result("close_year_per_student", per_student, len(students) - len(issued), 1, seconds),
        issued[0]["transcript_id"] if issued else "",
    )


async def verification(
    gateway_url: str, tenant: str, api: httpx.AsyncClient, student_id: str, args: Any
) -> tuple[Result, float] | None:
    """The public verification under load, and the first one alone (signatures checked; later ones are
    remembered by the documents' hashes)."""
    listed = (await api.get(f"/v1/students/{student_id}/transcripts")).json()["items"]
    if not listed:
        return None
    transcript = listed[0]
    url = f"/v1/public/transcripts/{tenant}/{transcript['id']}"
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as public:

        async def call() -> bool:
            response = await public.get(
                url, params={"code": transcript["verification_code"]}, headers={"Accept": "application/json"}
            )
            return response.status_code == 200 and response.json()["valid"] is True

        began = time.perf_counter()
        first_ok = await call()  # the first: both documents' signatures checked
        first_ms = (time.perf_counter() - began) * 1000
        measured = await load("verify_transcript", call, args.verify_requests, args.score_concurrency, 5)
        return measured, (first_ms if first_ok else float("nan"))


async def gradebook_paths(stack: dict[str, Any], args: Any) -> tuple[list[Result], dict[str, float | str]]:
    bearer = await admin_token(stack)
    metadata = (("authorization", f"Bearer {bearer}"),)
    results: list[Result] = []
    ratios: dict[str, float | str] = {}
    async with (
        httpx.AsyncClient(
            base_url=stack["gateway_url"], timeout=60, headers={"Authorization": f"Bearer {bearer}"}
        ) as api,
        grpc.aio.insecure_channel(stack["services"]["student-record"]["grpc"]) as channel,
    ):
        school_id, class_id, year, students = await make_class(api)
        stub = pb_grpc.StudentRecordServiceStub(channel)
        results += await score_entry(api, stub, metadata, class_id, students, args)
        by = {r.name: r for r in results}
        ratios["gateway_scores_per_s"] = round(by["gateway_scores_bulk"].rps * 240, 1)
        ratios["gateway_scores_per_s_vs_aim_2000"] = round(by["gateway_scores_bulk"].rps * 240 / 2000, 3)
        ratios["gateway_scores_vs_direct_grpc"] = round(
            by["gateway_scores_bulk"].rps / by["grpc_scores_bulk"].rps, 3
        )
        closed, transcript_id = await close_year(api, school_id, class_id, year, students)
        results.append(closed)
        print(f"  {closed}", flush=True)
        ratios["close_year_1500_students_estimate_s"] = round(closed.p50_ms * 1500 / 1000, 1)
        if transcript_id:
            verified = await verification(
                stack["gateway_url"],
                "demo",
                api,
                students[0],
                args,  # the tenant's slug, as in the QR code
            )
            if verified is not None:
                measured, first_ms = verified
                results.append(measured)
                print(f"  {measured}", flush=True)
                ratios["verify_first_call_ms"] = round(first_ms, 1)
                ratios["verify_remembered_p50_vs_first_call"] = round(measured.p50_ms / first_ms, 3)
    return results, ratios
