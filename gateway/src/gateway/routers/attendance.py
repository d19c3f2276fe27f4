"""Attendance (attendance service): class rosters, the school's attendance calendar, registers per date and
session, the 45-session counter of Circular 22/2021, leave requests, and the gate: check-in terminals, the
cards that identify students to them, and gate check-ins against the register. The terminals' own route,
where they send their taps, is the partner API (``routers/partner_gate.py``).

Routes on a school (its calendar, its devices and cards) check access at the edge first, as for classes:
the school is in the path. Routes on a class, a student, a leave request or a device forward, and
attendance decides (it knows the class's school from its rosters, the teachers of the class, the student's
guardians). The gateway checks shape only — dates are real ``YYYY-MM-DD`` days, a session is ``morning`` or
``afternoon``, a status one of five, ids are UUIDs (a malformed path id is a 404, as a missing one) — plus
the rules it sees alone: a range's end not before its start, a refusal with its note, one owner of a list.
The rest (``REASON_REQUIRED`` after the cut-off, ``NOT_A_SCHOOL_DAY``, ``SESSION_NOT_RUN``,
``DATE_OUTSIDE_SCHOOL_YEAR``, who may mark which class…) are the service's answers, passed through with
their reason and field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from school.attendance.v1 import attendance_pb2 as att
from school_common.access import Action, Resource

from gateway import mappers, schemas
from gateway.deps import (
    AccessDep,
    BackendsDep,
    Caller,
    ClassId,
    Dates,
    Day,
    DeviceId,
    GateCredential,
    IdempotencyKey,
    LeaveId,
    OptionalDates,
    PageSize,
    PageToken,
    SchoolId,
    SessionName,
    StudentId,
    check_date_order,
    exactly_one,
)
from gateway.problems import missing_field, problem_docs

router = APIRouter(prefix="/v1/attendance", tags=["attendance"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)
#: A list's dates, as the REST query names them.
RANGE_FIELDS = mappers.rest_fields(from_date="from", to_date="to")

REGISTER_REASONS = (
    "`REASON_REQUIRED` (sửa sau giờ chốt cần `reason`), `NOT_A_SCHOOL_DAY`, `SESSION_NOT_RUN` (trường không "
    "học buổi đó), `DATE_OUTSIDE_SCHOOL_YEAR`, `STUDENT_NOT_IN_CLASS`"
)
REGISTER_REASONS_EN = (
    "`REASON_REQUIRED` (a change after the cut-off needs a `reason`), `NOT_A_SCHOOL_DAY`, `SESSION_NOT_RUN` "
    "(the school does not run that session), `DATE_OUTSIDE_SCHOOL_YEAR`, `STUDENT_NOT_IN_CLASS`"
)


@router.get(
    "/classes/{class_id}/roster",
    operation_id="getClassRoster",
    summary="Sĩ số lớp / Class roster",
    description="Danh sách học sinh của lớp theo dịch vụ điểm danh (cập nhật từ sự kiện xếp lớp, có thể "
    "trễ vài giây). / The class roster as attendance knows it (fed by enrolment events, may lag by seconds).",
    responses=problem_docs(403, 404),
)
async def get_class_roster(caller: Caller, class_id: ClassId, backends: BackendsDep) -> schemas.ClassRoster:
    result: att.GetClassRosterResponse = await backends.call(
        backends.attendance.GetClassRoster, att.GetClassRosterRequest(class_id=class_id), caller
    )
    return mappers.roster(result)


# The school's attendance calendar


@router.get(
    "/schools/{school_id}/calendar",
    operation_id="getSchoolCalendar",
    summary="Lịch điểm danh của trường / A school's attendance calendar",
    description="Các buổi trường học, ngày học trong tuần, ngày nghỉ, giờ chốt sửa điểm danh, buổi tính "
    "chuyên cần và ngưỡng cảnh báo số buổi nghỉ; khi trường chưa cấu hình là giá trị mặc định "
    "(`configured: false`). Cho những ai được xem trường. / The sessions the school runs, its weekdays and "
    "closed dates, the cut-offs after which a change needs a reason, the session counted for the 45-session "
    "rule and the absence warning threshold; the defaults (`configured: false`) until the school configures "
    "them. For whoever may read the school.",
    responses=problem_docs(403, 404),
)
async def get_school_calendar(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.SchoolCalendar:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.GetSchoolCalendarResponse = await backends.call(
        backends.attendance.GetSchoolCalendar, att.GetSchoolCalendarRequest(school_id=school_id), caller
    )
    return mappers.school_calendar(result.calendar)


@router.put(
    "/schools/{school_id}/calendar",
    operation_id="configureSchoolCalendar",
    summary="Cấu hình lịch điểm danh / Configure the attendance calendar",
    description="Đặt toàn bộ lịch điểm danh của trường; cần quyền quản trị trường. Buổi tính chuyên cần phải "
    "là một buổi trường học, buổi chiều bắt đầu sau giờ chốt buổi sáng (422 `INVALID_ARGUMENT` với trường "
    "sai). Gửi lại cùng nội dung không thay đổi gì. / Sets the school's whole attendance calendar; needs the "
    "school's admin. The main session must be one the school runs, the afternoon must start after the "
    "morning cut-off (422 `INVALID_ARGUMENT` with the field). Sending the same again changes nothing.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def configure_school_calendar(
    caller: Caller,
    school_id: SchoolId,
    body: schemas.SchoolCalendarIn,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.SchoolCalendar:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.ConfigureSchoolCalendarResponse = await backends.call(
        backends.attendance.ConfigureSchoolCalendar,
        mappers.configure_school_calendar(school_id, body),
        caller,
        field_names=mappers.rest_fields("calendar."),
    )
    return mappers.school_calendar(result.calendar)


# Registers


@router.put(
    "/classes/{class_id}/registers/{date}/{session}",
    operation_id="markAttendance",
    summary="Điểm danh lớp / Mark a class's register",
    description="Điểm danh lớp cho một ngày và một buổi trong một yêu cầu (cả lớp hoặc một phần; học sinh "
    "không gửi giữ nguyên). Giáo viên của lớp và quản trị viên trường. Điểm danh giống hệt đã ghi không ghi "
    "gì (`changed: 0`); sau giờ chốt của buổi, thay đổi cần `reason` và được lưu trong nhật ký sửa điểm "
    f"danh (`after_cutoff: true`). Từ chối: 422 {REGISTER_REASONS}. `Idempotency-Key` (tùy chọn) trả lại "
    "đúng kết quả lần đầu. Trả về sổ điểm danh sau khi ghi. / Marks the class's register for one date and "
    "session in one request (all of the class or some of it; students left out keep their marks). The "
    "class's teachers and school admins. A mark identical to the one recorded writes nothing (`changed: "
    "0`); after the session's cut-off a change needs a `reason` and is kept in the register's trail "
    f"(`after_cutoff: true`). Refusals: 422 {REGISTER_REASONS_EN}. An `Idempotency-Key` (optional) returns "
    "the first answer. Answers with the register as marked. Lúc cao điểm quá sức: 503 `OVERLOADED` kèm "
    "`Retry-After`, gửi lại với cùng `Idempotency-Key` / at a peak beyond capacity: 503 `OVERLOADED` with "
    "`Retry-After`; send it again with the same `Idempotency-Key`.",
    responses=problem_docs(*WRITE_ERRORS, 503),
)
async def mark_attendance(
    caller: Caller,
    class_id: ClassId,
    date: Day,
    session: SessionName,
    key: IdempotencyKey,
    body: schemas.RegisterMarksIn,
    backends: BackendsDep,
) -> schemas.MarkResult:
    result: att.MarkAttendanceResponse = await backends.call(
        backends.attendance.MarkAttendance,
        mappers.mark_attendance(class_id, date, session, body, key),
        caller,
    )
    return mappers.mark_result(result)


@router.get(
    "/classes/{class_id}/registers/{date}/{session}",
    operation_id="getRegister",
    summary="Sổ điểm danh của lớp / A class's register",
    description="Mọi học sinh trong sĩ số lớp với điểm danh (null khi chưa điểm danh), đơn xin nghỉ đã duyệt "
    "và lần quẹt thẻ ở cổng, cùng số có mặt, vắng, chưa điểm danh và giờ chốt. Cán bộ được xem lớp. / Every "
    "student on the roster with their mark (null while not marked), an approved leave and the gate "
    "check-in, with the counts and the cut-off. Staff who may read the class.",
    responses=problem_docs(403, 404, 422),
)
async def get_register(
    caller: Caller, class_id: ClassId, date: Day, session: SessionName, backends: BackendsDep
) -> schemas.Register:
    result: att.GetRegisterResponse = await backends.call(
        backends.attendance.GetRegister,
        att.GetRegisterRequest(class_id=class_id, date=date, session=mappers.SESSION_TO_PB[session]),
        caller,
    )
    return mappers.register(result.register)


@router.get(
    "/classes/{class_id}/register-changes",
    operation_id="listRegisterChanges",
    summary="Nhật ký sửa điểm danh sau giờ chốt / Changes after the cut-off",
    description="Các lần sửa điểm danh của lớp sau giờ chốt, với điểm danh trước và sau, lý do, người sửa; "
    "tùy chọn trong khoảng `from`–`to` (cả hai hoặc không). Quản trị viên trường, giáo viên của lớp. / The "
    "class's marks changed after their cut-off, with the previous and new status, the reason and who "
    "changed them; optionally between `from` and `to` (both or neither). School admins, the class's "
    "teachers.",
    responses=problem_docs(403, 404, 422),
)
async def list_register_changes(
    caller: Caller, class_id: ClassId, dates: OptionalDates, backends: BackendsDep
) -> schemas.RegisterChangeList:
    result: att.ListRegisterChangesResponse = await backends.call(
        backends.attendance.ListRegisterChanges,
        att.ListRegisterChangesRequest(
            class_id=class_id,
            from_date=dates.from_date if dates else "",
            to_date=dates.to_date if dates else "",
        ),
        caller,
        field_names=RANGE_FIELDS,
    )
    return schemas.RegisterChangeList(items=[mappers.register_change(c) for c in result.changes])


@router.get(
    "/students/{student_id}/attendance",
    operation_id="listStudentAttendance",
    summary="Chuyên cần của học sinh / A student's attendance",
    description="Điểm danh của học sinh giữa hai ngày, từng buổi. Phụ huynh của học sinh, học sinh, cán bộ "
    "được xem học sinh. / The student's marks between two dates, session by session. The student's "
    "guardians, the student, staff who may read the student.",
    responses=problem_docs(403, 404, 422),
)
async def list_student_attendance(
    caller: Caller, student_id: StudentId, dates: Dates, backends: BackendsDep
) -> schemas.StudentAttendance:
    result: att.ListStudentAttendanceResponse = await backends.call(
        backends.attendance.ListStudentAttendance,
        att.ListStudentAttendanceRequest(
            student_id=student_id, from_date=dates.from_date, to_date=dates.to_date
        ),
        caller,
        field_names=RANGE_FIELDS,
    )
    return schemas.StudentAttendance(items=[mappers.student_attendance_day(d) for d in result.days])


# The 45-session counter (Circular 22/2021, art. 12)


@router.get(
    "/students/{student_id}/absence-summary",
    operation_id="getAbsenceSummary",
    summary="Số buổi nghỉ trong năm học / A student's absences in a school year",
    description="Số buổi nghỉ (có phép và không phép) tính lên lớp theo Thông tư 22/2021, điều 12 (kế hoạch "
    "một buổi/ngày; nghỉ quá 45 buổi không được lên lớp), với mức cảnh báo, số buổi đi muộn và về sớm. Những "
    "ai được xem học sinh. / The sessions absent (excused and unexcused) counted for promotion under "
    "Circular 22/2021, art. 12 (a one-session-a-day plan; more than 45 and the student is not promoted), "
    "with the warning level and the sessions late and left early. Whoever may read the student.",
    responses=problem_docs(403, 404, 422),
)
async def get_absence_summary(
    caller: Caller,
    student_id: StudentId,
    backends: BackendsDep,
    school_year: Annotated[
        str,
        Query(
            pattern=schemas.SCHOOL_YEAR_PATTERN,
            description="Năm học / school year",
            examples=["2025-2026"],
        ),
    ],
) -> schemas.AbsenceSummary:
    result: att.GetAbsenceSummaryResponse = await backends.call(
        backends.attendance.GetAbsenceSummary,
        att.GetAbsenceSummaryRequest(student_id=student_id, school_year=school_year),
        caller,
    )
    return mappers.absence_summary(result.summary)


@router.get(
    "/classes/{class_id}/absence-summaries",
    operation_id="listClassAbsenceSummaries",
    summary="Số buổi nghỉ của cả lớp / A class's absence summaries",
    description="Số buổi nghỉ của từng học sinh trong lớp cho năm học của lớp, với mức cảnh báo. Cán bộ được "
    "xem lớp. / Each student's absences for the class's school year, with the warning level. Staff who may "
    "read the class.",
    responses=problem_docs(403, 404),
)
async def list_class_absence_summaries(
    caller: Caller, class_id: ClassId, backends: BackendsDep
) -> schemas.ClassAbsenceSummaries:
    result: att.ListClassAbsenceSummariesResponse = await backends.call(
        backends.attendance.ListClassAbsenceSummaries,
        att.ListClassAbsenceSummariesRequest(class_id=class_id),
        caller,
    )
    return schemas.ClassAbsenceSummaries(
        school_year=result.school_year, items=[mappers.absence_summary(s) for s in result.summaries]
    )


# Leave requests


@router.post(
    "/leave-requests",
    status_code=201,
    operation_id="requestLeave",
    summary="Xin nghỉ học cho con / Request leave for a child",
    description="Phụ huynh của học sinh (hoặc nhà trường thay mặt gia đình) xin nghỉ cho học sinh từ "
    "`from_date` đến `to_date` (không trước `from_date`), các buổi đã chọn hoặc mọi buổi trường học; đơn chờ "
    "giáo viên chủ nhiệm duyệt. / A guardian of the student (or the school on the family's behalf) asks "
    "leave for the student from `from_date` to `to_date` (not before `from_date`), for the chosen sessions "
    "or every session the school runs; the request waits for the homeroom teacher.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def request_leave(
    caller: Caller, key: IdempotencyKey, body: schemas.LeaveRequestCreate, backends: BackendsDep
) -> schemas.LeaveRequest:
    check_date_order(body.from_date, body.to_date, "from_date", "to_date")
    result: att.RequestLeaveResponse = await backends.call(
        backends.attendance.RequestLeave, mappers.request_leave(body, key), caller
    )
    return mappers.leave_request(result.leave)


@router.post(
    "/leave-requests/{leave_id}/decision",
    operation_id="decideLeave",
    summary="Duyệt hoặc từ chối đơn xin nghỉ / Decide a leave request",
    description="Giáo viên chủ nhiệm của lớp (hoặc quản trị viên trường) duyệt một đơn đang chờ — các buổi "
    "được ghi vắng có phép (`marked`) — hoặc từ chối (cần `note`, gia đình sẽ thấy). Một đơn chỉ được quyết "
    "một lần, nên không cần `Idempotency-Key`. / The class's homeroom teacher (or a school admin) approves a "
    "pending request — its sessions are marked absent excused (`marked`) — or refuses it (with a `note`, "
    "shown to the family). A request is decided once, so it takes no `Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def decide_leave(
    caller: Caller, leave_id: LeaveId, body: schemas.LeaveDecision, backends: BackendsDep
) -> schemas.LeaveDecisionResult:
    if not body.approve and body.note is None:
        raise missing_field("note")
    result: att.DecideLeaveResponse = await backends.call(
        backends.attendance.DecideLeave, mappers.decide_leave(leave_id, body), caller
    )
    return schemas.LeaveDecisionResult(leave=mappers.leave_request(result.leave), marked=result.marked)


@router.post(
    "/leave-requests/{leave_id}/cancellation",
    operation_id="cancelLeave",
    summary="Rút đơn xin nghỉ / Withdraw a leave request",
    description="Phụ huynh đã gửi đơn rút lại đơn còn đang chờ; không có nội dung yêu cầu. Rút lại lần nữa "
    "không thay đổi gì, nên không cần `Idempotency-Key`. / The guardian who asked withdraws a request that "
    "is still pending; no request body. Withdrawing again changes nothing, so it takes no "
    "`Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def cancel_leave(caller: Caller, leave_id: LeaveId, backends: BackendsDep) -> schemas.LeaveRequest:
    result: att.CancelLeaveResponse = await backends.call(
        backends.attendance.CancelLeave, att.CancelLeaveRequest(leave_id=leave_id), caller
    )
    return mappers.leave_request(result.leave)


@router.get(
    "/leave-requests",
    operation_id="listLeaveRequests",
    summary="Đơn xin nghỉ / Leave requests",
    description="Đơn xin nghỉ của một lớp (cán bộ của lớp) hoặc của một học sinh (cả phụ huynh), mới nhất "
    "trước: đúng một trong `class_id`, `student_id`. / The leave requests of a class (its staff) or of a "
    "student (their guardians too), newest first: exactly one of `class_id`, `student_id`.",
    responses=problem_docs(403, 404, 422),
)
async def list_leave_requests(
    caller: Caller,
    backends: BackendsDep,
    class_id: Annotated[
        str | None,
        Query(pattern=schemas.UUID_PATTERN, description="Lớp / a class", examples=[schemas.EXAMPLE_CLASS_ID]),
    ] = None,
    student_id: Annotated[
        str | None,
        Query(
            pattern=schemas.UUID_PATTERN,
            description="Học sinh / a student",
            examples=[schemas.EXAMPLE_STUDENT_ID],
        ),
    ] = None,
    status: Annotated[
        schemas.LeaveStatus | None,
        Query(description="Chỉ các đơn ở trạng thái này / only requests in this state"),
    ] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> schemas.LeaveRequestPage:
    exactly_one(class_id=class_id, student_id=student_id)
    result: att.ListLeaveRequestsResponse = await backends.call(
        backends.attendance.ListLeaveRequests,
        att.ListLeaveRequestsRequest(
            class_id=(class_id or "").lower(),
            student_id=(student_id or "").lower(),
            status=mappers.LEAVE_STATUS_TO_PB[status] if status else att.LEAVE_STATUS_UNSPECIFIED,
            page_size=page_size or 0,
            page_token=page_token or "",
        ),
        caller,
    )
    return schemas.LeaveRequestPage(
        items=[mappers.leave_request(leave) for leave in result.leaves],
        next_page_token=result.next_page_token or None,
    )


# Gate check-in devices and the cards they read


@router.post(
    "/schools/{school_id}/gate-devices",
    status_code=201,
    operation_id="registerGateDevice",
    summary="Đăng ký thiết bị điểm danh ở cổng / Register a gate check-in device",
    description="Đăng ký một đầu đọc thẻ RFID hoặc máy nhận diện khuôn mặt của trường và tạo thông tin đăng "
    "nhập riêng của thiết bị (OAuth 2.0 client credentials); cần quyền quản trị trường. `client_secret` chỉ "
    "trả về lần này (cùng `Idempotency-Key` trả lại đúng kết quả lần đầu): cài vào thiết bị cùng "
    "`device.client_id` và `token_endpoint`, nơi thiết bị lấy mã truy cập để gọi "
    "`POST /v1/partner/gate/check-ins`. / Registers an RFID card reader or a face-recognition terminal of "
    "the school and creates the device's own credentials (OAuth 2.0 client credentials); needs the school's "
    "admin. `client_secret` is returned this once (the same `Idempotency-Key` returns the first answer): put "
    "it on the device with `device.client_id` and `token_endpoint`, where the device gets the access tokens "
    "it calls `POST /v1/partner/gate/check-ins` with.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def register_gate_device(
    caller: Caller,
    school_id: SchoolId,
    key: IdempotencyKey,
    body: schemas.GateDeviceCreate,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.GateDeviceRegistration:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.RegisterGateDeviceResponse = await backends.call(
        backends.attendance.RegisterGateDevice, mappers.register_gate_device(school_id, body, key), caller
    )
    return mappers.gate_device_registration(result)


@router.get(
    "/schools/{school_id}/gate-devices",
    operation_id="listGateDevices",
    summary="Thiết bị điểm danh của trường / A school's gate devices",
    description="Các thiết bị của trường, còn dùng hay đã tắt, với lần liên lạc gần nhất (không có bí mật "
    "của client). Quản trị viên trường. / The school's devices, enabled or disabled, with when each was last "
    "seen (never a client secret). School admins.",
    responses=problem_docs(403, 404),
)
async def list_gate_devices(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.GateDeviceList:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.ListGateDevicesResponse = await backends.call(
        backends.attendance.ListGateDevices, att.ListGateDevicesRequest(school_id=school_id), caller
    )
    return schemas.GateDeviceList(items=[mappers.gate_device(d) for d in result.devices])


@router.post(
    "/gate-devices/{device_id}/disable",
    operation_id="disableGateDevice",
    summary="Tắt thiết bị điểm danh / Disable a gate device",
    description="Tắt một thiết bị (mất, hỏng, thay thế): thông tin đăng nhập của nó hết hiệu lực ngay. Quản "
    "trị viên trường của thiết bị; không có nội dung yêu cầu. Tắt lại lần nữa không thay đổi gì, nên không "
    "cần `Idempotency-Key`. / Disables a device (lost, broken, replaced): its credentials stop working at "
    "once. The device's school admins; no request body. Disabling again changes nothing, so it takes no "
    "`Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def disable_gate_device(
    caller: Caller, device_id: DeviceId, backends: BackendsDep
) -> schemas.GateDevice:
    result: att.DisableGateDeviceResponse = await backends.call(
        backends.attendance.DisableGateDevice, att.DisableGateDeviceRequest(device_id=device_id), caller
    )
    return mappers.gate_device(result.device)


@router.put(
    "/schools/{school_id}/gate-credentials/{credential}",
    operation_id="assignGateCredential",
    summary="Gán thẻ cho học sinh / Assign a card to a student",
    description="Gán số thẻ (UID) hoặc mã người trên máy nhận diện cho một học sinh của trường; cần quyền "
    "quản trị trường. Gán lại cùng học sinh không thay đổi gì. / Maps a card number (UID) or a terminal's "
    "person code to a student of the school; needs the school's admin. Assigning the same student again "
    "changes nothing.",
    responses=problem_docs(403, 404, 409, 413, 415, 422),
)
async def assign_gate_credential(
    caller: Caller,
    school_id: SchoolId,
    credential: GateCredential,
    body: schemas.GateCredentialAssignment,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.GateCredential:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.AssignGateCredentialResponse = await backends.call(
        backends.attendance.AssignGateCredential,
        att.AssignGateCredentialRequest(
            school_id=school_id, student_id=body.student_id.lower(), credential=credential
        ),
        caller,
    )
    return schemas.GateCredential(credential=result.credential, student_id=result.student_id)


@router.delete(
    "/schools/{school_id}/gate-credentials/{credential}",
    status_code=204,
    response_class=Response,
    operation_id="removeGateCredential",
    summary="Gỡ thẻ (mất thẻ) / Remove a card (a lost card)",
    description="Gỡ một thẻ khỏi học sinh (mất thẻ): từ đó lần quẹt thẻ ấy là `unknown_credential`; cần "
    "quyền quản trị trường. / Removes a card from its student (a lost card): its taps are then "
    "`unknown_credential`; needs the school's admin.",
    responses=problem_docs(403, 404, 422),
)
async def remove_gate_credential(
    caller: Caller, school_id: SchoolId, credential: GateCredential, access: AccessDep, backends: BackendsDep
) -> Response:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    await backends.call(
        backends.attendance.RemoveGateCredential,
        att.RemoveGateCredentialRequest(school_id=school_id, credential=credential),
        caller,
    )
    return Response(status_code=204)


@router.get(
    "/classes/{class_id}/gate-reconciliation/{date}/{session}",
    operation_id="getGateReconciliation",
    summary="Đối chiếu cổng trường và sổ điểm danh / The gate against the register",
    description="Lần quẹt thẻ ở cổng đối chiếu với sổ điểm danh của lớp: đã vào cổng nhưng vắng trong lớp "
    "(`absent_in_class`, tính vào `flagged`), đã vào cổng chưa điểm danh (`not_marked`), có mặt không quẹt "
    "thẻ (`no_check_in`, để biết). Cán bộ được xem lớp. / Gate check-ins against the class's register: "
    "checked in at the gate but absent in class (`absent_in_class`, counted in `flagged`), checked in and "
    "not yet marked (`not_marked`), present without a check-in (`no_check_in`, informational). Staff who "
    "may read the class.",
    responses=problem_docs(403, 404, 422),
)
async def get_gate_reconciliation(
    caller: Caller, class_id: ClassId, date: Day, session: SessionName, backends: BackendsDep
) -> schemas.GateReconciliation:
    result: att.GetGateReconciliationResponse = await backends.call(
        backends.attendance.GetGateReconciliation,
        att.GetGateReconciliationRequest(
            class_id=class_id, date=date, session=mappers.SESSION_TO_PB[session]
        ),
        caller,
    )
    return mappers.gate_reconciliation(result)
