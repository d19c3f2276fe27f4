"""Semi-boarding (bán trú, attendance service): a school's published terms (prices, the meal cut-off,
kitchens, the refund policy), monthly registrations for lunch, breakfast and nap care, the day's meal count
per kitchen (frozen at the cut-off), menus, who of a class ate, the food-sample retention log, and the
month's charges computed with refunds by the school's policy and published for payments.

Routes on a school check access at the edge first: reading its terms, menus and meal counts is for whoever
may read the school (its families too: the terms and menus are published to them); configuring, publishing
menus and the food-sample log are the school admin's. Computing and reading a school's charges is for school
admins and accountants, a rule the shared access decision does not express: the edge only refuses callers
who cannot read the school, and attendance decides the rest. Routes on a class, a student or a sample
forward, and attendance decides. The gateway checks shape only (months ``YYYY-MM``, dates, meals ``breakfast``
or ``lunch``, amounts whole đồng ≥ 0); the rest are the service's answers, passed through with their reason
and field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
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
    FoodSampleId,
    IdempotencyKey,
    MealName,
    MonthName,
    SchoolId,
    StudentId,
    exactly_one,
)
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1/boarding", tags=["boarding"])

WRITE_ERRORS = (403, 404, 409, 413, 415, 422)
#: A list's dates, as the REST query names them.
RANGE_FIELDS = mappers.rest_fields(from_date="from", to_date="to")
#: A school's month of charges is computed in one go: more than the usual deadline may be needed.
COMPUTE_TIMEOUT_S = 30.0

# The school's terms


@router.get(
    "/schools/{school_id}/settings",
    operation_id="getBoardingSettings",
    summary="Điều kiện bán trú của trường / A school's semi-boarding terms",
    description="Giá bữa trưa, bữa sáng, phí chăm sóc bán trú, giờ chốt suất ăn, các bếp và quy định hoàn "
    "tiền ngày vắng, như đã công bố; mặc định khi trường chưa cấu hình (`configured: false`). Những ai được "
    "xem trường, kể cả gia đình. / Lunch and breakfast prices, the nap-care fee, the meal cut-off, the "
    "kitchens and the refund policy for absent days, as published; the defaults (`configured: false`) until "
    "the school configures them. Whoever may read the school, families included.",
    responses=problem_docs(403, 404),
)
async def get_boarding_settings(
    caller: Caller, school_id: SchoolId, access: AccessDep, backends: BackendsDep
) -> schemas.BoardingSettings:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.GetBoardingSettingsResponse = await backends.call(
        backends.attendance.GetBoardingSettings, att.GetBoardingSettingsRequest(school_id=school_id), caller
    )
    return mappers.boarding_settings(result.settings)


@router.put(
    "/schools/{school_id}/settings",
    operation_id="configureBoarding",
    summary="Cấu hình bán trú / Configure semi-boarding",
    description="Đặt toàn bộ điều kiện bán trú của trường và công bố cho gia đình; cần quyền quản trị "
    "trường. Giá, phí là số nguyên đồng; phí vượt mức trần của tỉnh, lớp không thuộc trường: 422 với trường "
    "sai. / Sets the school's whole semi-boarding terms and publishes them to families; needs the school's "
    "admin. Prices and fees are whole đồng; a fee above the province's cap, a class of another school: 422 "
    "with the field.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def configure_boarding(
    caller: Caller,
    school_id: SchoolId,
    body: schemas.BoardingSettingsIn,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.BoardingSettings:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.ConfigureBoardingResponse = await backends.call(
        backends.attendance.ConfigureBoarding,
        mappers.configure_boarding(school_id, body),
        caller,
        field_names=mappers.rest_fields("settings."),
    )
    return mappers.boarding_settings(result.settings)


# Registrations


@router.put(
    "/students/{student_id}/registrations/{month}",
    operation_id="registerBoarding",
    summary="Đăng ký bán trú tháng / Register for a month of semi-boarding",
    description="Đăng ký (hoặc thay đăng ký) ăn trưa, ăn sáng, chăm sóc bán trú của học sinh cho một tháng: "
    "phụ huynh của học sinh, giáo viên chủ nhiệm của lớp, quản trị viên trường. Với tháng hiện tại, đăng ký "
    "tính từ ngày đầu tiên chưa chốt suất (`effective_date`). `Idempotency-Key` (tùy chọn) trả lại đúng kết "
    "quả lần đầu. / Registers (or replaces the registration of) the student for lunch, breakfast and nap "
    "care for a month: the student's guardians, the class's homeroom teacher, school admins. For the "
    "current month it counts from the next day not yet frozen (`effective_date`). An `Idempotency-Key` "
    "(optional) returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def register_boarding(
    caller: Caller,
    student_id: StudentId,
    month: MonthName,
    key: IdempotencyKey,
    body: schemas.BoardingRegistrationIn,
    backends: BackendsDep,
) -> schemas.BoardingRegistration:
    result: att.RegisterBoardingResponse = await backends.call(
        backends.attendance.RegisterBoarding, mappers.register_boarding(student_id, month, body, key), caller
    )
    return mappers.boarding_registration(result.registration)


@router.get(
    "/registrations",
    operation_id="listBoardingRegistrations",
    summary="Đăng ký bán trú của một tháng / A month's registrations",
    description="Đăng ký bán trú của một tháng: của một trường hoặc một lớp (cán bộ), hoặc của một học sinh "
    "(cả phụ huynh): đúng một trong `school_id`, `class_id`, `student_id`. / A month's registrations of a "
    "school or a class (staff), or of a student (their guardians too): exactly one of `school_id`, "
    "`class_id`, `student_id`.",
    responses=problem_docs(403, 404, 422),
)
async def list_boarding_registrations(
    caller: Caller,
    backends: BackendsDep,
    month: Annotated[
        str,
        Query(
            pattern=schemas.MONTH_PATTERN,
            description="Tháng (YYYY-MM) / month (YYYY-MM)",
            examples=["2025-12"],
        ),
    ],
    school_id: Annotated[
        str | None,
        Query(
            pattern=schemas.UUID_PATTERN,
            description="Trường / a school",
            examples=[schemas.EXAMPLE_SCHOOL_ID],
        ),
    ] = None,
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
) -> schemas.BoardingRegistrationList:
    exactly_one(school_id=school_id, class_id=class_id, student_id=student_id)
    result: att.ListBoardingRegistrationsResponse = await backends.call(
        backends.attendance.ListBoardingRegistrations,
        att.ListBoardingRegistrationsRequest(
            school_id=(school_id or "").lower(),
            class_id=(class_id or "").lower(),
            student_id=(student_id or "").lower(),
            month=month,
        ),
        caller,
    )
    return schemas.BoardingRegistrationList(
        items=[mappers.boarding_registration(r) for r in result.registrations]
    )


# Meals


@router.get(
    "/schools/{school_id}/meal-counts/{date}",
    operation_id="getMealCount",
    summary="Số suất ăn trong ngày / The day's meal count",
    description="Số suất ăn trưa, ăn sáng của trường trong ngày theo từng bếp, và số suất đăng ký nhưng "
    "không tính (vắng, nghỉ phép biết trước): cập nhật đến giờ chốt, cố định từ đó (`frozen`). Cán bộ của "
    "trường. / The school's lunches and breakfasts for the date per kitchen, and those registered but left "
    "out (an absence or leave known in time): live until the cut-off, frozen from it (`frozen`). The "
    "school's staff.",
    responses=problem_docs(403, 404, 422),
)
async def get_meal_count(
    caller: Caller, school_id: SchoolId, date: Day, access: AccessDep, backends: BackendsDep
) -> schemas.MealCount:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.GetMealCountResponse = await backends.call(
        backends.attendance.GetMealCount, att.GetMealCountRequest(school_id=school_id, date=date), caller
    )
    return mappers.meal_count(result)


@router.put(
    "/schools/{school_id}/menus/{date}",
    operation_id="publishMenu",
    summary="Công bố thực đơn / Publish a menu",
    description="Công bố (hoặc thay) thực đơn của một ngày cho gia đình: mỗi bữa một lần, 1–20 món; cần "
    "quyền quản trị trường. / Publishes (or replaces) a date's menu to families: each meal once, 1 to 20 "
    "dishes; needs the school's admin.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def publish_menu(
    caller: Caller,
    school_id: SchoolId,
    date: Day,
    body: schemas.MenuIn,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.Menu:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.PublishMenuResponse = await backends.call(
        backends.attendance.PublishMenu, mappers.publish_menu(school_id, date, body), caller
    )
    return mappers.menu(result.menu)


@router.get(
    "/schools/{school_id}/menus",
    operation_id="listMenus",
    summary="Thực đơn đã công bố / Published menus",
    description="Thực đơn đã công bố của trường giữa hai ngày. Cán bộ và gia đình của trường. / The "
    "school's published menus between two dates. Its staff and families.",
    responses=problem_docs(403, 404, 422),
)
async def list_menus(
    caller: Caller, school_id: SchoolId, dates: Dates, access: AccessDep, backends: BackendsDep
) -> schemas.MenuList:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.ListMenusResponse = await backends.call(
        backends.attendance.ListMenus,
        att.ListMenusRequest(school_id=school_id, from_date=dates.from_date, to_date=dates.to_date),
        caller,
        field_names=RANGE_FIELDS,
    )
    return schemas.MenuList(items=[mappers.menu(m) for m in result.menus])


@router.put(
    "/classes/{class_id}/meal-attendance/{date}/{meal}",
    operation_id="recordMealAttendance",
    summary="Ghi nhận ai đã ăn / Record who ate",
    description="Ghi nhận học sinh nào của lớp đã ăn một bữa trong ngày (điều chỉnh so với số suất đã chốt). "
    "Giáo viên của lớp, quản trị viên trường. Gửi lại cùng nội dung không thay đổi gì. / Records who of the "
    "class ate a meal on the date (corrections to what the count implied). The class's teachers, school "
    "admins. Sending the same again changes nothing.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def record_meal_attendance(
    caller: Caller,
    class_id: ClassId,
    date: Day,
    meal: MealName,
    body: schemas.MealAttendanceIn,
    backends: BackendsDep,
) -> schemas.MealAttendance:
    result: att.RecordMealAttendanceResponse = await backends.call(
        backends.attendance.RecordMealAttendance,
        mappers.record_meal_attendance(class_id, date, meal, body),
        caller,
    )
    return mappers.meal_attendance(class_id, date, meal, result.entries)


@router.get(
    "/classes/{class_id}/meal-attendance/{date}/{meal}",
    operation_id="getMealAttendance",
    summary="Ai đã ăn / Who ate",
    description="Học sinh đã đăng ký bữa đó của lớp và đã ăn hay không: như đã ghi nhận, nếu không thì như "
    "số suất đã chốt. Cán bộ được xem lớp. / The class's students registered for the meal and whether each "
    "ate: as recorded, else as the frozen count implied. Staff who may read the class.",
    responses=problem_docs(403, 404, 422),
)
async def get_meal_attendance(
    caller: Caller, class_id: ClassId, date: Day, meal: MealName, backends: BackendsDep
) -> schemas.MealAttendance:
    result: att.GetMealAttendanceResponse = await backends.call(
        backends.attendance.GetMealAttendance,
        att.GetMealAttendanceRequest(class_id=class_id, date=date, meal=mappers.MEAL_TO_PB[meal]),
        caller,
    )
    return mappers.meal_attendance(class_id, date, meal, result.entries)


# The food-sample retention log (lưu mẫu thức ăn)


@router.post(
    "/schools/{school_id}/food-samples",
    status_code=201,
    operation_id="recordFoodSample",
    summary="Ghi sổ lưu mẫu thức ăn / Record a food sample",
    description="Ghi một mẫu thức ăn lưu của một bữa (lưu 24 giờ: `keep_until`); cần quyền quản trị trường. "
    "/ Records a retained food sample of a meal (kept 24 hours: `keep_until`); needs the school's admin.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def record_food_sample(
    caller: Caller,
    school_id: SchoolId,
    key: IdempotencyKey,
    body: schemas.FoodSampleCreate,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.FoodSample:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.RecordFoodSampleResponse = await backends.call(
        backends.attendance.RecordFoodSample,
        mappers.record_food_sample(school_id, body, key),
        caller,
        field_names=mappers.rest_fields(sample_time="sampled_at"),
    )
    return mappers.food_sample(result.sample)


@router.post(
    "/food-samples/{sample_id}/discard",
    operation_id="discardFoodSample",
    summary="Ghi hủy mẫu thức ăn / Record a sample discarded",
    description="Ghi rằng mẫu đã được hủy; trước khi hết thời hạn lưu bị từ chối (422). Hủy lại lần nữa "
    "không thay đổi gì, nên không cần `Idempotency-Key`. / Records that the sample was discarded; refused "
    "before its retention period is over (422). Discarding again changes nothing, so it takes no "
    "`Idempotency-Key`.",
    responses=problem_docs(403, 404, 413, 415, 422),
)
async def discard_food_sample(
    caller: Caller, sample_id: FoodSampleId, body: schemas.FoodSampleDiscard, backends: BackendsDep
) -> schemas.FoodSample:
    result: att.DiscardFoodSampleResponse = await backends.call(
        backends.attendance.DiscardFoodSample,
        mappers.discard_food_sample(sample_id, body),
        caller,
        field_names=mappers.rest_fields(discard_time="discarded_at"),
    )
    return mappers.food_sample(result.sample)


@router.get(
    "/schools/{school_id}/food-samples",
    operation_id="listFoodSamples",
    summary="Sổ lưu mẫu thức ăn / The food-sample log",
    description="Sổ lưu mẫu thức ăn của trường giữa hai ngày; cần quyền quản trị trường. / The school's "
    "food-sample log between two dates; needs the school's admin.",
    responses=problem_docs(403, 404, 422),
)
async def list_food_samples(
    caller: Caller, school_id: SchoolId, dates: Dates, access: AccessDep, backends: BackendsDep
) -> schemas.FoodSampleList:
    await access.authorize(caller, Action.ADMIN, Resource.school(school_id))
    result: att.ListFoodSamplesResponse = await backends.call(
        backends.attendance.ListFoodSamples,
        att.ListFoodSamplesRequest(school_id=school_id, from_date=dates.from_date, to_date=dates.to_date),
        caller,
        field_names=RANGE_FIELDS,
    )
    return schemas.FoodSampleList(items=[mappers.food_sample(s) for s in result.samples])


# Charges


@router.post(
    "/schools/{school_id}/charges/{month}",
    operation_id="computeBoardingCharges",
    summary="Tính tiền bán trú của tháng / Compute a month's charges",
    description="Tính tiền ăn và chăm sóc bán trú của từng học sinh trong tháng, hoàn tiền ngày vắng theo "
    "quy định của trường, và công bố cho thu phí. Tính lại khi không có gì đổi không công bố gì "
    "(`changed: false`); có thay đổi thì công bố phiên bản mới. Quản trị viên trường, kế toán; không có nội "
    "dung yêu cầu. `Idempotency-Key` trả lại đúng kết quả lần đầu. / Computes each student's meal and care "
    "charges for the month, with refunds for absent days by the school's policy, and publishes them for "
    "payments. Recomputing unchanged charges publishes nothing (`changed: false`); a change publishes a new "
    "version. School admins, accountants; no request body. An `Idempotency-Key` returns the first answer.",
    responses=problem_docs(*WRITE_ERRORS),
)
async def compute_boarding_charges(
    caller: Caller,
    school_id: SchoolId,
    month: MonthName,
    key: IdempotencyKey,
    access: AccessDep,
    backends: BackendsDep,
) -> schemas.BoardingChargeRun:
    # Accountants too, which no action of the shared decision names: attendance decides past READ.
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.ComputeBoardingChargesResponse = await backends.call(
        backends.attendance.ComputeBoardingCharges,
        att.ComputeBoardingChargesRequest(request_id=key, school_id=school_id, month=month),
        caller,
        timeout_s=COMPUTE_TIMEOUT_S,
    )
    return mappers.boarding_charge_run(result)


@router.get(
    "/schools/{school_id}/charges/{month}",
    operation_id="listSchoolBoardingCharges",
    summary="Tiền bán trú của trường trong tháng / A school's charges for a month",
    description="Phiên bản tính mới nhất của tiền bán trú từng học sinh trong tháng. Cán bộ của trường (quản "
    "trị viên, kế toán). / The latest computed charges of each student for the month. The school's staff "
    "(admins, accountants).",
    responses=problem_docs(403, 404, 422),
)
async def list_school_boarding_charges(
    caller: Caller, school_id: SchoolId, month: MonthName, access: AccessDep, backends: BackendsDep
) -> schemas.BoardingChargeList:
    await access.authorize(caller, Action.READ, Resource.school(school_id))
    result: att.ListBoardingChargesResponse = await backends.call(
        backends.attendance.ListBoardingCharges,
        att.ListBoardingChargesRequest(school_id=school_id, month=month),
        caller,
    )
    return schemas.BoardingChargeList(items=[mappers.boarding_charge(c) for c in result.charges])


@router.get(
    "/students/{student_id}/charges",
    operation_id="listStudentBoardingCharges",
    summary="Tiền bán trú của học sinh / A student's charges",
    description="Phiên bản tính mới nhất của tiền bán trú từng tháng của học sinh, với từng khoản và số ngày "
    "được hoàn. Những ai được xem học sinh, kể cả phụ huynh. / The latest computed charges of each of the "
    "student's months, itemised with the days refunded. Whoever may read the student, guardians included.",
    responses=problem_docs(403, 404),
)
async def list_student_boarding_charges(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.BoardingChargeList:
    result: att.ListBoardingChargesResponse = await backends.call(
        backends.attendance.ListBoardingCharges, att.ListBoardingChargesRequest(student_id=student_id), caller
    )
    return schemas.BoardingChargeList(items=[mappers.boarding_charge(c) for c in result.charges])
