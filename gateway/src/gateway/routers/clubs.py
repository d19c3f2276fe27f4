"""School clubs: clubs, membership requests and decisions, sessions and who took part (student-record).

The two routes on a school (creating and listing its clubs) check access at the edge first, as for classes:
the school is in the path. Routes on a club, a membership or a student forward, and student-record decides
(it knows the club's school and adviser, the student's school and guardians). The gateway checks shape
only, plus one rule it can see alone: refusing a membership needs a reason.
"""

from __future__ import annotations

from fastapi import APIRouter
from school.student_record.v1 import student_record_pb2 as sr
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import (
    AccessDep,
    BackendsDep,
    Caller,
    ClubId,
    ClubMembershipId,
    IdempotencyKey,
    SchoolId,
    StudentId,
)
from gateway.problems import missing_field, problem_docs

router = APIRouter(prefix="/v1", tags=["clubs"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)


@router.post(
    "/schools/{school_id}/clubs",
    status_code=201,
    operation_id="createClub",
    summary="Tạo câu lạc bộ / Create a club",
    description="Tạo một câu lạc bộ của trường với giáo viên phụ trách (tài khoản Keycloak của một cán bộ) "
    "và số thành viên tối đa (0: không giới hạn); cần quyền quản trị trường. / Creates a club of the school "
    "with its adviser (a staff member's Keycloak account) and its capacity (0: no limit); needs the "
    "school's admin.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def create_club(
    caller: Caller,
    school_id: SchoolId,
    key: IdempotencyKey,
    body: schemas.ClubCreate,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.Club:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: sr.CreateClubResponse = await backends.call(
        backends.student_record.CreateClub, mappers.create_club(school_id, body, key), caller
    )
    return mappers.club(result.club)


@router.get(
    "/schools/{school_id}/clubs",
    operation_id="listClubs",
    summary="Câu lạc bộ của trường / List the clubs of a school",
    description="Các câu lạc bộ của trường, cho những ai được xem trường. / The school's clubs, for whoever "
    "may read the school.",
    responses=problem_docs(403, 404),
)
async def list_clubs(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.ClubList:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: sr.ListClubsResponse = await backends.call(
        backends.student_record.ListClubs, sr.ListClubsRequest(school_id=school_id), caller
    )
    return schemas.ClubList(items=[mappers.club(c) for c in result.clubs])


@router.post(
    "/clubs/{club_id}/memberships",
    status_code=201,
    operation_id="requestClubMembership",
    summary="Đề nghị tham gia câu lạc bộ / Ask to join a club",
    description="Phụ huynh của học sinh, hoặc cán bộ của trường có quyền ghi hồ sơ học sinh, đề nghị cho học "
    "sinh tham gia câu lạc bộ; đề nghị chờ giáo viên phụ trách duyệt. Câu lạc bộ đã đủ thành viên: 422 "
    "`CLUB_FULL`. / The student's guardian, or the school's staff who may write the student, asks for the "
    "student to join the club; the request waits for the adviser. A full club: 422 `CLUB_FULL`.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def request_club_membership(
    caller: Caller,
    club_id: ClubId,
    key: IdempotencyKey,
    body: schemas.ClubMembershipCreate,
    backends: BackendsDep,
) -> schemas.ClubMembership:
    result: sr.RequestClubMembershipResponse = await backends.call(
        backends.student_record.RequestClubMembership,
        mappers.request_club_membership(club_id, body, key),
        caller,
    )
    return mappers.club_membership(result.membership)


@router.post(
    "/club-memberships/{membership_id}/decision",
    operation_id="decideClubMembership",
    summary="Duyệt hoặc từ chối đề nghị tham gia câu lạc bộ / Decide a club membership request",
    description="Giáo viên phụ trách câu lạc bộ hoặc quản trị viên trường duyệt, hoặc từ chối (cần `reason`, "
    "gia đình sẽ thấy). Một đề nghị chỉ được quyết một lần, nên không cần `Idempotency-Key`. / The club's "
    "adviser or the school admin approves, or refuses (with a `reason`, shown to the family). A request is "
    "decided once, so it takes no `Idempotency-Key`.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def decide_club_membership(
    caller: Caller,
    membership_id: ClubMembershipId,
    body: schemas.ClubMembershipDecision,
    backends: BackendsDep,
) -> schemas.ClubMembership:
    if not body.approve and body.reason is None:
        raise missing_field("reason")
    result: sr.DecideClubMembershipResponse = await backends.call(
        backends.student_record.DecideClubMembership,
        mappers.decide_club_membership(membership_id, body),
        caller,
    )
    return mappers.club_membership(result.membership)


@router.get(
    "/clubs/{club_id}/members",
    operation_id="listClubMembers",
    summary="Thành viên câu lạc bộ / A club's members",
    description="Câu lạc bộ, các thành viên và đề nghị đang chờ, với số buổi đã tham gia; cho giáo viên phụ "
    "trách và quản trị viên trường. / The club, its members and pending requests, with the sessions each "
    "attended; for the adviser and the school admin.",
    responses=problem_docs(403, 404),
)
async def list_club_members(caller: Caller, club_id: ClubId, backends: BackendsDep) -> schemas.ClubMembers:
    result: sr.ListClubMembersResponse = await backends.call(
        backends.student_record.ListClubMembers, sr.ListClubMembersRequest(club_id=club_id), caller
    )
    return schemas.ClubMembers(
        club=mappers.club(result.club), items=[mappers.club_membership(m) for m in result.memberships]
    )


@router.post(
    "/clubs/{club_id}/sessions",
    status_code=201,
    operation_id="recordClubSession",
    summary="Ghi nhận buổi sinh hoạt câu lạc bộ / Record a club session",
    description="Giáo viên phụ trách ghi nhận một buổi sinh hoạt và các thành viên đã duyệt có mặt (tối đa "
    "200, không lặp). / The adviser records a session and the approved members who took part (at most 200, "
    "no duplicates).",
    responses=problem_docs(*WRITE_ERRORS),
)
async def record_club_session(
    caller: Caller,
    club_id: ClubId,
    key: IdempotencyKey,
    body: schemas.ClubSessionCreate,
    backends: BackendsDep,
) -> schemas.ClubSession:
    result: sr.RecordClubSessionResponse = await backends.call(
        backends.student_record.RecordClubSession, mappers.record_club_session(club_id, body, key), caller
    )
    return mappers.club_session(result.session)


@router.get(
    "/students/{student_id}/clubs",
    operation_id="listStudentClubs",
    summary="Câu lạc bộ của học sinh / A student's clubs",
    description="Các câu lạc bộ học sinh tham gia hoặc đã đề nghị tham gia, với số buổi đã tham gia; cho "
    "những ai được xem học sinh. / The clubs the student belongs to or asked to join, with the sessions "
    "attended; for whoever may read the student.",
    responses=problem_docs(403, 404),
)
async def list_student_clubs(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.StudentClubList:
    result: sr.ListStudentClubsResponse = await backends.call(
        backends.student_record.ListStudentClubs, sr.ListStudentClubsRequest(student_id=student_id), caller
    )
    return schemas.StudentClubList(
        items=[
            schemas.StudentClub(club=mappers.club(c.club), membership=mappers.club_membership(c.membership))
            for c in result.clubs
        ]
    )
