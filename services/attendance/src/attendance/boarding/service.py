"""Semi-boarding (bán trú) use cases: the school's terms, monthly registrations, the daily meal count
frozen at the cut-off, menus, meal attendance, the food-sample log and the month's charges.

Access (``school_common.access``): terms and menus are published (whoever may read the school, its
families included); meal counts are the school's staff's; registrations are made by the student's
guardians, the class's homeroom teacher or a school admin; charges are computed by school admins and
accountants. See the README's "Semi-boarding" section.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from datetime import UTC, date

from school.attendance.v1 import attendance_pb2 as pb
from school_common import idempotency
from school_common.access import ACCOUNTANT, Action, Caller, Callers, Resource
from school_common.db import Database, UnitOfWork
from school_common.errors import FailedPrecondition, NotFound, PermissionDenied, bilingual
from school_common.events import Outbox
from school_common.ids import parse_uuid, uuid7
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from attendance.boarding import counts, publish
from attendance.boarding import rules as r
from attendance.boarding.counts import Count, terms_of
from attendance.boarding.models import (
    BoardingRegistrationRow,
    BoardingSettingsRow,
    ChargeRunRow,
    FoodSampleRow,
    MealAttendanceRow,
    MealCountEntry,
    MenuRow,
    StudentChargeRow,
)
from attendance.boarding.publish import StudentMonth
from attendance.calendar.service import (
    load_class,
    school_known,
    school_not_found,
    school_uuid,
    student_not_found,
    student_placement,
)
from attendance.domain.calendar import (
    Clock,
    invalid,
    local_date,
    month_days,
    parse_date,
    parse_month,
    parse_time_of_day,
)
from attendance.mappers import timestamp
from attendance.models import Mark, RosterClass, RosterEntry

MEAL_FROM_PB = {pb.MEAL_BREAKFAST: r.Meal.BREAKFAST, pb.MEAL_LUNCH: r.Meal.LUNCH}
MEAL_TO_PB = {v: k for k, v in MEAL_FROM_PB.items()}
MEAL_POLICY_FROM_PB = {
    pb.MEAL_REFUND_POLICY_NONE: r.MealPolicy.NONE,
    pb.MEAL_REFUND_POLICY_NOTIFIED_BEFORE_CUTOFF: r.MealPolicy.NOTIFIED_BEFORE_CUTOFF,
    pb.MEAL_REFUND_POLICY_ALL_ABSENT_DAYS: r.MealPolicy.ALL_ABSENT_DAYS,
}
MEAL_POLICY_TO_PB = {v: k for k, v in MEAL_POLICY_FROM_PB.items()}
CARE_POLICY_FROM_PB = {
    pb.CARE_REFUND_POLICY_NONE: r.CarePolicy.NONE,
    pb.CARE_REFUND_POLICY_PRO_RATA: r.CarePolicy.PRO_RATA,
}
CARE_POLICY_TO_PB = {v: k for k, v in CARE_POLICY_FROM_PB.items()}
KIND_TO_PB = {
    r.ChargeKind.LUNCH: pb.CHARGE_KIND_LUNCH,
    r.ChargeKind.BREAKFAST: pb.CHARGE_KIND_BREAKFAST,
    r.ChargeKind.NAP_CARE: pb.CHARGE_KIND_NAP_CARE,
}
#: Registrations are taken up to this many months ahead.
MONTHS_AHEAD = 12
MAX_ENTRIES = 200
MAX_STORAGE = 200


# ---------------------------------------------------------------- errors and small parsers


def meal_of(value: int, field_name: str = "meal") -> r.Meal:
    meal = MEAL_FROM_PB.get(value)  # type: ignore[call-overload]
    if meal is None:
        raise invalid(field_name, "Bữa ăn là bữa sáng hoặc bữa trưa", "the meal is BREAKFAST or LUNCH")
    return meal


def date_range(from_date: str, to_date: str) -> tuple[date, date]:
    first, last = parse_date(from_date, "from_date"), parse_date(to_date, "to_date")
    if last < first:
        raise invalid("to_date", "Ngày kết thúc trước ngày bắt đầu", "to_date is before from_date")
    if (last - first).days >= r.MAX_RANGE_DAYS:
        raise invalid(
            "to_date",
            f"Khoảng thời gian tối đa {r.MAX_RANGE_DAYS} ngày",
            f"the range covers at most {r.MAX_RANGE_DAYS} days",
        )
    return first, last


def dishes_of(values: list[str], field_name: str) -> list[str]:
    dishes = [d.strip() for d in values]
    if not 1 <= len(dishes) <= r.MAX_DISHES:
        raise invalid(field_name, f"Từ 1 đến {r.MAX_DISHES} món", f"from 1 to {r.MAX_DISHES} dishes")
    if any(not d or len(d) > r.MAX_DISH_NAME for d in dishes):
        raise invalid(
            field_name,
            f"Tên món từ 1 đến {r.MAX_DISH_NAME} ký tự",
            f"a dish name has 1 to {r.MAX_DISH_NAME} characters",
        )
    return dishes


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


# ---------------------------------------------------------------- access


def works_at(caller: Caller, school_id: str) -> bool:
    scope = caller.scope
    return scope.tenant_wide or bool(scope.school_roles(school_id)) or scope.teaches_in(school_id)


async def authorize_staff(caller: Caller, school_id: str) -> None:
    """The school's staff (families read the school's published terms, not its counts)."""
    await caller.authorize(Action.READ, Resource.school(school_id))
    if not works_at(caller, school_id):
        raise PermissionDenied(
            "STAFF_ONLY",
            bilingual(
                "Chỉ cán bộ, giáo viên của trường được xem thông tin này",
                "only the school's staff may see this",
            ),
        )


async def authorize_accounts(caller: Caller, school_id: str) -> None:
    """School admins and the school's accountants (and the authority)."""
    if ACCOUNTANT in caller.scope.school_roles(school_id):
        return
    await caller.authorize(Action.ADMIN, Resource.school(school_id))


# ---------------------------------------------------------------- mapping


def settings_proto(terms: r.Terms) -> pb.BoardingSettings:
    return pb.BoardingSettings(
        school_id=terms.school_id,
        meal_cutoff=terms.meal_cutoff.strftime("%H:%M"),
        lunch_price=terms.lunch_price,
        breakfast_price=terms.breakfast_price,
        nap_care_monthly_fee=terms.nap_care_monthly_fee,
        meal_refund=MEAL_POLICY_TO_PB[terms.meal_refund],
        care_refund=CARE_POLICY_TO_PB[terms.care_refund],
        kitchens=[pb.Kitchen(name=k.name, class_ids=list(k.class_ids)) for k in terms.kitchens],
        policy_text=terms.policy_text,
        configured=terms.configured,
    )


def terms_from_proto(message: pb.BoardingSettings, school_id: uuid.UUID) -> r.Terms:
    meal_refund = MEAL_POLICY_FROM_PB.get(message.meal_refund)
    if meal_refund is None:
        raise invalid(
            "settings.meal_refund",
            "Chọn quy định hoàn tiền ăn",
            "meal_refund is NONE, NOTIFIED_BEFORE_CUTOFF or ALL_ABSENT_DAYS",
        )
    care_refund = CARE_POLICY_FROM_PB.get(message.care_refund)
    if care_refund is None:
        raise invalid(
            "settings.care_refund", "Chọn quy định hoàn phí bán trú", "care_refund is NONE or PRO_RATA"
        )
    kitchens = []
    for kitchen in message.kitchens:
        class_ids = []
        for value in kitchen.class_ids:
            parsed = parse_uuid(value)
            if parsed is None:
                raise invalid("settings.kitchens.class_ids", "Mã lớp không hợp lệ", "not a class id")
            class_ids.append(str(parsed))
        kitchens.append(r.Kitchen(kitchen.name.strip(), tuple(class_ids)))
    terms = r.Terms(
        school_id=str(school_id),
        meal_cutoff=parse_time_of_day(message.meal_cutoff, "settings.meal_cutoff"),
        lunch_price=message.lunch_price,
        breakfast_price=message.breakfast_price,
        nap_care_monthly_fee=message.nap_care_monthly_fee,
        meal_refund=meal_refund,
        care_refund=care_refund,
        kitchens=tuple(kitchens),
        policy_text=message.policy_text.strip(),
        configured=True,
    )
    terms.check()
    return terms


def registration_proto(
    row: BoardingRegistrationRow, class_id: uuid.UUID, full_name: str
) -> pb.BoardingRegistration:
    return pb.BoardingRegistration(
        student_id=str(row.student_id),
        class_id=str(class_id),
        month=f"{row.month:%Y-%m}",
        lunch=row.lunch,
        breakfast=row.breakfast,
        nap_care=row.nap_care,
        effective_date=row.effective_date.isoformat(),
        registered_by=row.registered_by,
        register_time=timestamp(row.registered_at),
        full_name=full_name,
    )


def count_proto(count: Count, frozen: bool) -> pb.GetMealCountResponse:
    response = pb.GetMealCountResponse(
        school_id=str(count.school_id),
        date=count.day.isoformat(),
        frozen=frozen,
        cutoff_time=timestamp(count.cutoff_at),
        kitchens=[
            pb.KitchenCount(
                kitchen=t.kitchen,
                lunch=t.lunch,
                breakfast=t.breakfast,
                lunch_absent=t.lunch_absent,
                breakfast_absent=t.breakfast_absent,
            )
            for t in count.tallies()
        ],
    )
    if count.frozen_at is not None:
        response.freeze_time.CopyFrom(timestamp(count.frozen_at))
    return response


def menu_proto(row: MenuRow) -> pb.Menu:
    return pb.Menu(
        school_id=str(row.school_id),
        date=row.day.isoformat(),
        items=[pb.MenuItem(meal=MEAL_TO_PB[r.Meal(i["meal"])], dishes=i["dishes"]) for i in row.items],
        publish_time=timestamp(row.published_at),
    )


def sample_proto(row: FoodSampleRow) -> pb.FoodSample:
    message = pb.FoodSample(
        id=str(row.id),
        school_id=str(row.school_id),
        date=row.day.isoformat(),
        meal=MEAL_TO_PB[r.Meal(row.meal)],
        dishes=list(row.dishes),
        sample_time=timestamp(row.sample_time),
        keep_until=timestamp(row.keep_until),
        recorded_by=row.recorded_by,
        discarded_by=row.discarded_by or "",
        storage=row.storage,
    )
    if row.discarded_at is not None:
        message.discard_time.CopyFrom(timestamp(row.discarded_at))
    return message


def line_proto(line: r.ChargeLine) -> pb.ChargeLine:
    return pb.ChargeLine(
        kind=KIND_TO_PB[line.kind],
        quantity=line.quantity,
        unit_price=line.unit_price,
        gross_amount=line.gross_amount,
        refunded_days=line.refunded_days,
        refund_amount=line.refund_amount,
        amount=line.amount,
    )


def charge_proto(student: StudentMonth, month: date, version: int, full_name: str) -> pb.BoardingCharge:
    return pb.BoardingCharge(
        student_id=student.student_id,
        class_id=student.class_id,
        month=f"{month:%Y-%m}",
        lines=[line_proto(line) for line in student.lines],
        total=student.total,
        version=version,
        full_name=full_name,
    )


def digest(students: list[StudentMonth]) -> str:
    canonical = [[s.student_id, s.class_id, r.lines_key(s.lines)] for s in students]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


# ---------------------------------------------------------------- loaders


async def load_terms(uow: UnitOfWork, school_id: uuid.UUID) -> r.Terms | None:
    """The school's stored terms (None when the school never used semi-boarding), without the lock."""
    row = await uow.session.scalar(select(BoardingSettingsRow).where(BoardingSettingsRow.id == school_id))
    return terms_of(row) if row is not None else None


async def known_terms(uow: UnitOfWork, school_id: uuid.UUID) -> tuple[r.Terms, bool]:
    """The school's terms (defaults when not stored) and whether they are stored; SCHOOL_NOT_FOUND for a
    school attendance does not know."""
    terms = await load_terms(uow, school_id)
    if terms is not None:
        return terms, True
    if not await school_known(uow.session, school_id):
        raise school_not_found()
    return r.Terms(school_id=str(school_id)), False


async def names_of(uow: UnitOfWork, student_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not student_ids:
        return {}
    rows = await uow.session.execute(
        select(RosterEntry.student_id, RosterEntry.full_name)
        .where(RosterEntry.student_id.in_(student_ids))
        .order_by(RosterEntry.enrolled_at)
    )
    return {student: name for student, name in rows.all()}


async def snapshot_or_freeze(
    uow: UnitOfWork, outbox: Outbox, clock: Clock, terms: r.Terms, days: r.SchoolDays, day: date
) -> Count | None:
    """The frozen count of a school day, freezing it now when its cut-off has passed (the first read
    does what the freezer would); None while it is live. Freezing takes the school's settings row lock
    and reads the clock after it (as registering does). A day no registration covers (a school that
    never used semi-boarding, a day before anyone registered) is not frozen: its count is empty, nothing
    is stored or published."""
    school_id = uuid.UUID(terms.school_id)
    frozen = await counts.snapshot(uow.session, school_id, day)
    if frozen is not None or clock() < terms.cutoff(day):
        return frozen
    row = await counts.lock_settings(uow, school_id)
    if row is not None:
        terms = terms_of(row)
        if clock() < terms.cutoff(day):  # the school moved its cut-off later meanwhile
            return None
        frozen = await counts.freeze(uow, outbox, clock, school_id, day, days.meal_session)
        if frozen is not None:
            return frozen
    return Count(school_id, day, terms.cutoff(day), [], [k.name for k in terms.kitchens])


# ---------------------------------------------------------------- the use cases


class BoardingService:
    def __init__(self, db: Database, access: Callers, outbox: Outbox, clock: Clock) -> None:
        self.db = db
        self.access = access
        self.outbox = outbox
        self.clock = clock

    # ---- terms

    async def get_settings(self, request: pb.GetBoardingSettingsRequest) -> pb.GetBoardingSettingsResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        async with self.db.unit_of_work(caller.tenant) as uow:
            terms, _ = await known_terms(uow, school_id)
        return pb.GetBoardingSettingsResponse(settings=settings_proto(terms))

    async def configure(self, request: pb.ConfigureBoardingRequest) -> pb.ConfigureBoardingResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.settings.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        terms = terms_from_proto(request.settings, school_id)
        async with self.db.unit_of_work(caller.tenant) as uow:
            await known_terms(uow, school_id)
            listed = {uuid.UUID(c) for k in terms.kitchens for c in k.class_ids}
            if listed:
                found = set(
                    (
                        await uow.session.scalars(
                            select(RosterClass.id).where(
                                RosterClass.id.in_(listed), RosterClass.school_id == school_id
                            )
                        )
                    ).all()
                )
                if listed - found:
                    raise invalid(
                        "settings.kitchens.class_ids",
                        "Lớp không thuộc trường này",
                        "a class is not one of this school's",
                    )
            values = counts.settings_values(terms)
            await uow.session.execute(
                insert(BoardingSettingsRow)
                .values(id=school_id, tenant_id=caller.tenant, **values)
                .on_conflict_do_update(index_elements=["id"], set_={**values, "updated_at": func.now()})
            )
            await uow.commit()
        return pb.ConfigureBoardingResponse(settings=settings_proto(terms))

    # ---- registrations

    async def register(self, request: pb.RegisterBoardingRequest) -> pb.RegisterBoardingResponse:
        caller = await self.access.current()
        first = parse_month(request.month)
        if months_between(local_date(self.clock()).replace(day=1), first) > MONTHS_AHEAD:
            raise invalid(
                "month",
                f"Chỉ đăng ký trước tối đa {MONTHS_AHEAD} tháng",
                f"registrations are taken at most {MONTHS_AHEAD} months ahead",
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            entry, klass, class_ids = await student_placement(uow.session, request.student_id)
            school = str(klass.school_id)
            if caller.scope.children.get(str(entry.student_id)) != school:
                await caller.authorize(
                    Action.WRITE, Resource.student(str(entry.student_id), school, class_ids)
                )
            replayed = await idempotency.replay(
                uow, request.request_id, "RegisterBoarding", request, pb.RegisterBoardingResponse
            )
            if replayed:
                return replayed
            await counts.ensure_settings(uow, klass.school_id)
            # The lock freezing takes: the clock and the frozen days are read once it is held, so this
            # registration commits before a day's snapshot is taken (and is in it) or starts after it.
            settings = await counts.lock_settings(uow, klass.school_id)
            assert settings is not None
            terms = terms_of(settings)
            now = self.clock()
            today = local_date(now)
            if first < today.replace(day=1):
                raise FailedPrecondition(
                    "MONTH_PASSED",
                    bilingual("Tháng đã qua, không đăng ký được", "the month is over"),
                    {"field": "month"},
                )
            days = month_days(first)
            school_days = await counts.school_days(uow.session, klass.school_id, days[0], days[-1])
            frozen = await counts.frozen_days(uow.session, klass.school_id, max(first, today), days[-1])
            start = r.effective_date(days, today, now, terms.cutoff, frozen, school_days)
            if start is None:
                raise FailedPrecondition(
                    "REGISTRATION_CLOSED",
                    bilingual(
                        "Tháng không còn ngày học nào chưa chốt suất ăn",
                        "no school day left in the month whose count is not frozen",
                    ),
                    {"field": "month"},
                )
            # Replaces the month's registration from `start`; days already counted keep theirs.
            await uow.session.execute(
                delete(BoardingRegistrationRow).where(
                    BoardingRegistrationRow.student_id == entry.student_id,
                    BoardingRegistrationRow.month == first,
                    BoardingRegistrationRow.effective_date >= start,
                )
            )
            row = BoardingRegistrationRow(
                id=uuid7(),
                tenant_id=caller.tenant,
                school_id=klass.school_id,
                class_id=klass.id,
                student_id=entry.student_id,
                month=first,
                effective_date=start,
                lunch=request.lunch,
                breakfast=request.breakfast,
                nap_care=request.nap_care,
                registered_by=caller.principal.subject,
                registered_at=now,
            )
            uow.session.add(row)
            await uow.session.flush()
            response = pb.RegisterBoardingResponse(
                registration=registration_proto(row, klass.id, entry.full_name)
            )
            await idempotency.remember(uow, request.request_id, "RegisterBoarding", request, response)
            await uow.commit()
        return response

    async def list_registrations(
        self, request: pb.ListBoardingRegistrationsRequest
    ) -> pb.ListBoardingRegistrationsResponse:
        caller = await self.access.current()
        if sum(bool(v) for v in (request.school_id, request.class_id, request.student_id)) != 1:
            raise invalid(
                "school_id",
                "Chọn một trong: trường, lớp, học sinh",
                "give exactly one of school_id, class_id and student_id",
            )
        first = parse_month(request.month)
        query = select(BoardingRegistrationRow).where(BoardingRegistrationRow.month == first)
        async with self.db.unit_of_work(caller.tenant) as uow:
            if request.school_id:
                school_id = school_uuid(request.school_id)
                await authorize_staff(caller, str(school_id))
                await known_terms(uow, school_id)
                query = query.where(BoardingRegistrationRow.school_id == school_id)
            elif request.class_id:
                klass = await load_class(uow.session, request.class_id)
                await caller.authorize(Action.READ, Resource.klass(str(klass.id), str(klass.school_id)))
                on_roster = select(RosterEntry.student_id).where(RosterEntry.class_id == klass.id)
                query = query.where(
                    BoardingRegistrationRow.school_id == klass.school_id,
                    BoardingRegistrationRow.student_id.in_(on_roster),
                )
            else:
                entry, klass, class_ids = await student_placement(uow.session, request.student_id)
                await caller.authorize(
                    Action.READ, Resource.student(str(entry.student_id), str(klass.school_id), class_ids)
                )
                query = query.where(BoardingRegistrationRow.student_id == entry.student_id)
            latest = counts.latest_per_student((await uow.session.scalars(query)).all())
            names = await names_of(uow, list(latest))
            classes: dict[uuid.UUID, uuid.UUID] = {}
            for school_id in {row.school_id for row in latest.values()}:
                classes |= await counts.roster_classes(uow.session, school_id, list(latest))
        rows = sorted(latest.values(), key=lambda row: (names.get(row.student_id, ""), str(row.student_id)))
        return pb.ListBoardingRegistrationsResponse(
            registrations=[
                registration_proto(
                    row, classes.get(row.student_id, row.class_id), names.get(row.student_id, "")
                )
                for row in rows
            ]
        )

    # ---- the meal count

    async def meal_count(self, request: pb.GetMealCountRequest) -> pb.GetMealCountResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        day = parse_date(request.date)
        await authorize_staff(caller, str(school_id))
        async with self.db.unit_of_work(caller.tenant) as uow:
            terms, _ = await known_terms(uow, school_id)
            days = await counts.school_days(uow.session, school_id, day, day)
            days.check(day)
            frozen = await snapshot_or_freeze(uow, self.outbox, self.clock, terms, days, day)
            if frozen is not None:
                await uow.commit()
                return count_proto(frozen, frozen=True)
            return count_proto(await counts.live(uow.session, terms, day, days.meal_session), frozen=False)

    # ---- menus

    async def publish_menu(self, request: pb.PublishMenuRequest) -> pb.PublishMenuResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        day = parse_date(request.date)
        items: dict[r.Meal, list[str]] = {}
        if not request.items:
            raise invalid("items", "Thực đơn cần ít nhất một bữa", "a menu has at least one meal")
        for item in request.items:
            meal = meal_of(item.meal, "items.meal")
            if meal in items:
                raise invalid("items.meal", "Mỗi bữa chỉ một lần", "each meal appears once")
            items[meal] = dishes_of(list(item.dishes), "items.dishes")
        stored = [
            {"meal": m.value, "dishes": items[m]} for m in (r.Meal.BREAKFAST, r.Meal.LUNCH) if m in items
        ]
        now = self.clock()
        async with self.db.unit_of_work(caller.tenant) as uow:
            await known_terms(uow, school_id)
            (await counts.school_days(uow.session, school_id, day, day)).check(day)
            values = {"items": stored, "published_by": caller.principal.subject, "published_at": now}
            row = await uow.session.scalar(
                insert(MenuRow)
                .values(id=uuid7(), tenant_id=caller.tenant, school_id=school_id, day=day, **values)
                .on_conflict_do_update(
                    index_elements=["school_id", "day"], set_={**values, "updated_at": func.now()}
                )
                .returning(MenuRow)
            )
            assert row is not None
            menu = menu_proto(row)
            await uow.commit()
        return pb.PublishMenuResponse(menu=menu)

    async def list_menus(self, request: pb.ListMenusRequest) -> pb.ListMenusResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.READ, Resource.school(str(school_id)))
        first, last = date_range(request.from_date, request.to_date)
        async with self.db.unit_of_work(caller.tenant) as uow:
            await known_terms(uow, school_id)
            rows = (
                await uow.session.scalars(
                    select(MenuRow)
                    .where(MenuRow.school_id == school_id, MenuRow.day >= first, MenuRow.day <= last)
                    .order_by(MenuRow.day)
                )
            ).all()
        return pb.ListMenusResponse(menus=[menu_proto(row) for row in rows])

    # ---- meal attendance

    async def _meal_register(
        self, uow: UnitOfWork, class_id: uuid.UUID, school_id: uuid.UUID, day: date, meal: r.Meal
    ) -> tuple[dict[uuid.UUID, bool], bool]:
        """Who of the class was registered for the meal with whether they ate (recorded, else what the
        frozen count implied); and whether the count froze now (to be committed)."""
        terms, _ = await known_terms(uow, school_id)
        days = await counts.school_days(uow.session, school_id, day, day)
        days.check(day)
        had = await counts.snapshot(uow.session, school_id, day)
        frozen = had
        if frozen is None:
            frozen = await snapshot_or_freeze(uow, self.outbox, self.clock, terms, days, day)
        if frozen is None:
            raise FailedPrecondition(
                "MEAL_COUNT_NOT_FROZEN",
                bilingual(
                    "Chưa đến giờ chốt suất ăn của ngày này", "the day's meal count has not frozen yet"
                ),
                {"field": "date"},
            )
        ate = {
            e.student_id: e.counted
            for e in frozen.entries
            if e.class_id == class_id and (e.lunch if meal is r.Meal.LUNCH else e.breakfast)
        }
        recorded = await uow.session.execute(
            select(MealAttendanceRow.student_id, MealAttendanceRow.ate).where(
                MealAttendanceRow.class_id == class_id,
                MealAttendanceRow.day == day,
                MealAttendanceRow.meal == meal.value,
            )
        )
        for student, value in recorded.all():
            if student in ate:
                ate[student] = value
        return ate, had is None

    async def _entries(self, uow: UnitOfWork, ate: dict[uuid.UUID, bool]) -> list[pb.MealAttendanceEntry]:
        names = await names_of(uow, list(ate))
        order = sorted(ate, key=lambda s: (names.get(s, ""), str(s)))
        return [
            pb.MealAttendanceEntry(student_id=str(s), ate=ate[s], full_name=names.get(s, "")) for s in order
        ]

    async def record_meal_attendance(
        self, request: pb.RecordMealAttendanceRequest
    ) -> pb.RecordMealAttendanceResponse:
        caller = await self.access.current()
        day = parse_date(request.date)
        meal = meal_of(request.meal)
        if not 1 <= len(request.entries) <= MAX_ENTRIES:
            raise invalid("entries", f"Từ 1 đến {MAX_ENTRIES} học sinh", f"from 1 to {MAX_ENTRIES} entries")
        given: dict[uuid.UUID, bool] = {}
        for entry in request.entries:
            student = parse_uuid(entry.student_id)
            if student is None or student in given:
                raise invalid(
                    "entries.student_id",
                    "Mã học sinh không hợp lệ hoặc bị lặp",
                    "a student id is not valid or appears twice",
                )
            given[student] = entry.ate
        async with self.db.unit_of_work(caller.tenant) as uow:
            klass = await load_class(uow.session, request.class_id)
            await caller.authorize(Action.WRITE, Resource.klass(str(klass.id), str(klass.school_id)))
            ate, _ = await self._meal_register(uow, klass.id, klass.school_id, day, meal)
            unknown = [s for s in given if s not in ate]
            if unknown:
                raise FailedPrecondition(
                    "STUDENT_NOT_REGISTERED",
                    bilingual(
                        "Học sinh không đăng ký bữa ăn này ở lớp", "a student is not registered for this meal"
                    ),
                    {"field": "entries.student_id", "student_id": str(unknown[0])},
                )
            for student, value in given.items():
                await uow.session.execute(
                    insert(MealAttendanceRow)
                    .values(
                        id=uuid7(),
                        tenant_id=caller.tenant,
                        school_id=klass.school_id,
                        class_id=klass.id,
                        day=day,
                        meal=meal.value,
                        student_id=student,
                        ate=value,
                        recorded_by=caller.principal.subject,
                    )
                    .on_conflict_do_update(
                        index_elements=["class_id", "day", "meal", "student_id"],
                        set_={
                            "ate": value,
                            "recorded_by": caller.principal.subject,
                            "updated_at": func.now(),
                        },
                    )
                )
                ate[student] = value
            response = pb.RecordMealAttendanceResponse(entries=await self._entries(uow, ate))
            await uow.commit()
        return response

    async def meal_attendance(self, request: pb.GetMealAttendanceRequest) -> pb.GetMealAttendanceResponse:
        caller = await self.access.current()
        day = parse_date(request.date)
        meal = meal_of(request.meal)
        async with self.db.unit_of_work(caller.tenant) as uow:
            klass = await load_class(uow.session, request.class_id)
            await caller.authorize(Action.READ, Resource.klass(str(klass.id), str(klass.school_id)))
            ate, froze_now = await self._meal_register(uow, klass.id, klass.school_id, day, meal)
            response = pb.GetMealAttendanceResponse(entries=await self._entries(uow, ate))
            if froze_now:
                await uow.commit()
        return response

    # ---- the food-sample log

    async def record_food_sample(self, request: pb.RecordFoodSampleRequest) -> pb.RecordFoodSampleResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        day = parse_date(request.date)
        meal = meal_of(request.meal)
        dishes = dishes_of(list(request.dishes), "dishes")
        storage = request.storage.strip()
        if len(storage) > MAX_STORAGE:
            raise invalid("storage", f"Tối đa {MAX_STORAGE} ký tự", f"at most {MAX_STORAGE} characters")
        if not request.HasField("sample_time"):
            raise invalid("sample_time", "Cần giờ lấy mẫu", "sample_time is required")
        now = self.clock()
        sample_time = request.sample_time.ToDatetime(tzinfo=UTC)
        if sample_time > now:
            raise invalid("sample_time", "Giờ lấy mẫu ở tương lai", "sample_time is in the future")
        if local_date(sample_time) != day:
            raise invalid(
                "sample_time",
                "Giờ lấy mẫu không thuộc ngày của bữa ăn",
                "sample_time is not on the meal's date",
            )
        async with self.db.unit_of_work(caller.tenant) as uow:
            await known_terms(uow, school_id)
            replayed = await idempotency.replay(
                uow, request.request_id, "RecordFoodSample", request, pb.RecordFoodSampleResponse
            )
            if replayed:
                return replayed
            row = FoodSampleRow(
                id=uuid7(),
                tenant_id=caller.tenant,
                school_id=school_id,
                day=day,
                meal=meal.value,
                dishes=dishes,
                sample_time=sample_time,
                keep_until=sample_time + r.SAMPLE_RETENTION,
                storage=storage,
                recorded_by=caller.principal.subject,
            )
            uow.session.add(row)
            await uow.session.flush()
            response = pb.RecordFoodSampleResponse(sample=sample_proto(row))
            await idempotency.remember(uow, request.request_id, "RecordFoodSample", request, response)
            await uow.commit()
        return response

    async def discard_food_sample(self, request: pb.DiscardFoodSampleRequest) -> pb.DiscardFoodSampleResponse:
        caller = await self.access.current()
        sample_id = parse_uuid(request.sample_id)
        not_found = NotFound("SAMPLE_NOT_FOUND", bilingual("Không tìm thấy mẫu lưu", "food sample not found"))
        if sample_id is None:
            raise not_found
        now = self.clock()
        when = request.discard_time.ToDatetime(tzinfo=UTC) if request.HasField("discard_time") else now
        if when > now:
            raise invalid("discard_time", "Giờ hủy mẫu ở tương lai", "discard_time is in the future")
        async with self.db.unit_of_work(caller.tenant) as uow:
            row = await uow.session.scalar(
                select(FoodSampleRow).where(FoodSampleRow.id == sample_id).with_for_update()
            )
            if row is None:
                raise not_found
            await caller.authorize(Action.ADMIN, Resource.school(str(row.school_id)))
            if row.discarded_at is None:
                if when < row.keep_until:
                    raise FailedPrecondition(
                        "SAMPLE_RETENTION_NOT_OVER",
                        bilingual(
                            "Mẫu thức ăn phải lưu đủ 24 giờ (Quyết định 1246/QĐ-BYT)",
                            "a food sample is kept at least 24 hours",
                        ),
                        {"field": "discard_time", "keep_until": row.keep_until.isoformat()},
                    )
                row.discarded_at = when
                row.discarded_by = caller.principal.subject
                await uow.session.flush()
                await uow.commit()
            return pb.DiscardFoodSampleResponse(sample=sample_proto(row))

    async def list_food_samples(self, request: pb.ListFoodSamplesRequest) -> pb.ListFoodSamplesResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        await caller.authorize(Action.ADMIN, Resource.school(str(school_id)))
        first, last = date_range(request.from_date, request.to_date)
        async with self.db.unit_of_work(caller.tenant) as uow:
            await known_terms(uow, school_id)
            rows = (
                await uow.session.scalars(
                    select(FoodSampleRow)
                    .where(
                        FoodSampleRow.school_id == school_id,
                        FoodSampleRow.day >= first,
                        FoodSampleRow.day <= last,
                    )
                    .order_by(FoodSampleRow.day, FoodSampleRow.sample_time, FoodSampleRow.id)
                )
            ).all()
        return pb.ListFoodSamplesResponse(samples=[sample_proto(row) for row in rows])

    # ---- charges

    async def _month(self, uow: UnitOfWork, terms: r.Terms, first: date) -> list[StudentMonth]:
        """Every registered student's lines for the month, from the frozen counts (freezing first each
        school day a registration covers whose count is still missing). The caller holds the school's
        settings row lock."""
        school_id = uuid.UUID(terms.school_id)
        days = month_days(first)
        is_school_day = await counts.school_days(uow.session, school_id, days[0], days[-1])
        school_days = [d for d in days if is_school_day(d)]
        now = self.clock()
        last_cutoff = terms.cutoff(school_days[-1] if school_days else days[-1])
        if now < last_cutoff:
            raise FailedPrecondition(
                "MONTH_NOT_OVER",
                bilingual(
                    f"Tháng {first:%m/%Y} chưa chốt hết suất ăn",
                    f"{first:%Y-%m} is not counted to its end yet",
                ),
                {"field": "month"},
            )
        registrations = (
            await uow.session.scalars(
                select(BoardingRegistrationRow).where(
                    BoardingRegistrationRow.school_id == school_id, BoardingRegistrationRow.month == first
                )
            )
        ).all()
        if not registrations:
            return []
        plans: dict[uuid.UUID, list[r.Plan]] = defaultdict(list)
        for row in registrations:
            plans[row.student_id].append(r.Plan(row.effective_date, row.lunch, row.breakfast, row.nap_care))
        # A day before the earliest registration has nobody to count: it is not frozen.
        covered_from = min(row.effective_date for row in registrations)
        frozen = await counts.frozen_days(uow.session, school_id, days[0], days[-1])
        meal_session = is_school_day.meal_session
        for day in school_days:
            missing = day >= covered_from and day not in frozen
            if missing and await counts.freeze(uow, self.outbox, self.clock, school_id, day, meal_session):
                frozen.add(day)
        held: dict[uuid.UUID, dict[date, r.Held]] = defaultdict(dict)
        counted_in: dict[uuid.UUID, tuple[date, uuid.UUID]] = {}
        for entry in await uow.session.scalars(
            select(MealCountEntry).where(
                MealCountEntry.school_id == school_id,
                MealCountEntry.day >= days[0],
                MealCountEntry.day <= days[-1],
            )
        ):
            held[entry.student_id][entry.day] = r.Held(entry.lunch, entry.breakfast, entry.counted)
            if entry.student_id not in counted_in or counted_in[entry.student_id][0] < entry.day:
                counted_in[entry.student_id] = (entry.day, entry.class_id)
        students = sorted(set(plans) | set(held))
        absent: dict[uuid.UUID, set[date]] = defaultdict(set)
        for student, day in await uow.session.execute(
            select(Mark.student_id, Mark.day).where(
                Mark.student_id.in_(students),
                Mark.day >= days[0],
                Mark.day <= days[-1],
                Mark.session == meal_session.value,
                Mark.status.in_(counts.ABSENT),
            )
        ):
            absent[student].add(day)
        classes = await counts.roster_classes(uow.session, school_id, students)
        registered_in = counts.latest_per_student(registrations)
        result = []
        for student in students:
            on_counts = {day: held[student].get(day) for day in school_days if day in frozen}
            lines = r.student_lines(terms, school_days, plans[student], absent[student], on_counts)
            if lines:
                # Their class now, else the one the last count saw them in, else the registration's.
                klass = classes.get(student) or (
                    counted_in[student][1] if student in counted_in else registered_in[student].class_id
                )
                result.append(StudentMonth(str(student), str(klass), lines))
        return result

    async def compute_charges(
        self, request: pb.ComputeBoardingChargesRequest
    ) -> pb.ComputeBoardingChargesResponse:
        caller = await self.access.current()
        school_id = school_uuid(request.school_id)
        first = parse_month(request.month)
        await authorize_accounts(caller, str(school_id))
        async with self.db.unit_of_work(caller.tenant) as uow:
            replayed = await idempotency.replay(
                uow, request.request_id, "ComputeBoardingCharges", request, pb.ComputeBoardingChargesResponse
            )
            if replayed:
                return replayed
            # The settings row serialises computations, registrations and freezing of one school.
            settings = await counts.lock_settings(uow, school_id)
            terms = terms_of(settings) if settings is not None else (await known_terms(uow, school_id))[0]
            students = await self._month(uow, terms, first)
            fingerprint = digest(students)
            latest = await uow.session.scalar(
                select(ChargeRunRow)
                .where(ChargeRunRow.school_id == school_id, ChargeRunRow.month == first)
                .order_by(ChargeRunRow.version.desc())
                .limit(1)
            )
            # Nobody to charge and nothing charged before: no run is stored or published (version 0).
            changed = (latest is None and bool(students)) or (
                latest is not None and latest.digest != fingerprint
            )
            version = latest.version if latest is not None else 0
            total = sum(s.total for s in students)
            if changed:
                version += 1
                now = self.clock()
                run = ChargeRunRow(
                    id=uuid7(),
                    tenant_id=caller.tenant,
                    school_id=school_id,
                    month=first,
                    version=version,
                    total=total,
                    digest=fingerprint,
                    computed_by=caller.principal.subject,
                    computed_at=now,
                )
                uow.session.add(run)
                await uow.session.flush()
                uow.session.add_all(
                    StudentChargeRow(
                        id=uuid7(),
                        tenant_id=caller.tenant,
                        run_id=run.id,
                        school_id=school_id,
                        month=first,
                        version=version,
                        student_id=uuid.UUID(s.student_id),
                        class_id=uuid.UUID(s.class_id),
                        lines=r.lines_key(s.lines),
                        total=s.total,
                    )
                    for s in students
                )
                await publish.charges_computed(
                    self.outbox, uow, str(school_id), first, version, students, now
                )
            names = await names_of(uow, [uuid.UUID(s.student_id) for s in students])
            response = pb.ComputeBoardingChargesResponse(
                school_id=str(school_id),
                month=f"{first:%Y-%m}",
                version=version,
                changed=changed,
                charges=[
                    charge_proto(s, first, version, names.get(uuid.UUID(s.student_id), ""))
                    for s in sorted(
                        students, key=lambda s: (names.get(uuid.UUID(s.student_id), ""), s.student_id)
                    )
                ],
                total=total,
            )
            await idempotency.remember(uow, request.request_id, "ComputeBoardingCharges", request, response)
            await uow.commit()
        return response

    async def list_charges(self, request: pb.ListBoardingChargesRequest) -> pb.ListBoardingChargesResponse:
        caller = await self.access.current()
        latest = select(ChargeRunRow.school_id, ChargeRunRow.month, func.max(ChargeRunRow.version)).group_by(
            ChargeRunRow.school_id, ChargeRunRow.month
        )
        query = select(StudentChargeRow).where(
            tuple_(StudentChargeRow.school_id, StudentChargeRow.month, StudentChargeRow.version).in_(latest)
        )
        async with self.db.unit_of_work(caller.tenant) as uow:
            if request.student_id:
                student_id = parse_uuid(request.student_id)
                if student_id is None:
                    raise student_not_found()
                try:
                    _, klass, class_ids = await student_placement(uow.session, request.student_id)
                    school, classes = str(klass.school_id), class_ids
                except NotFound:
                    # Left the rosters: their charges are still theirs to see.
                    charged = await uow.session.scalar(
                        select(StudentChargeRow.school_id)
                        .where(StudentChargeRow.student_id == student_id)
                        .limit(1)
                    )
                    if charged is None:
                        raise
                    school, classes = str(charged), []
                await caller.authorize(Action.READ, Resource.student(str(student_id), school, classes))
                query = query.where(StudentChargeRow.student_id == student_id)
                if request.month:
                    query = query.where(StudentChargeRow.month == parse_month(request.month))
                query = query.order_by(StudentChargeRow.month.desc(), StudentChargeRow.school_id)
            else:
                if not request.school_id:
                    raise invalid(
                        "school_id",
                        "Chọn trường và tháng, hoặc học sinh",
                        "give school_id and month, or student_id",
                    )
                school_id = school_uuid(request.school_id)
                first = parse_month(request.month)
                await authorize_accounts(caller, str(school_id))
                await known_terms(uow, school_id)
                query = query.where(StudentChargeRow.school_id == school_id, StudentChargeRow.month == first)
            rows = (await uow.session.scalars(query)).all()
            names = await names_of(uow, [row.student_id for row in rows])
        if not request.student_id:
            rows = sorted(rows, key=lambda row: (names.get(row.student_id, ""), str(row.student_id)))
        return pb.ListBoardingChargesResponse(
            charges=[
                charge_proto(
                    StudentMonth(str(row.student_id), str(row.class_id), r.lines_from_key(row.lines)),
                    row.month,
                    row.version,
                    names.get(row.student_id, ""),
                )
                for row in rows
            ]
        )
