"""Semi-boarding's events. Each is an outbox row in the transaction of the change that causes it.

- `meals.counted` (MealsCounted): a school's count for a date froze; once per school and date.
- `boarding.charges_computed` (BoardingChargesComputed): a school's month of charges was computed, or
  recomputed with a different result (a higher version replaces the previous one as a whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from school.events.attendance.v1 import events_pb2 as events
from school_common.db import UnitOfWork
from school_common.events import Outbox

from attendance.boarding.rules import ChargeLine
from attendance.mappers import timestamp

if TYPE_CHECKING:
    from attendance.boarding.counts import Count

MEALS_COUNTED = "meals.counted"
CHARGES_COMPUTED = "boarding.charges_computed"


async def meals_counted(outbox: Outbox, uow: UnitOfWork, count: Count) -> None:
    assert count.frozen_at is not None
    payload = events.MealsCounted(
        school_id=str(count.school_id),
        date=count.day.isoformat(),
        kitchens=[
            events.KitchenMeals(kitchen=t.kitchen, lunch=t.lunch, breakfast=t.breakfast)
            for t in count.tallies()
        ],
    )
    payload.freeze_time.CopyFrom(timestamp(count.frozen_at))
    await outbox.add(uow, MEALS_COUNTED, payload)


@dataclass(frozen=True)
class StudentMonth:
    student_id: str
    class_id: str
    lines: list[ChargeLine]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


async def charges_computed(
    outbox: Outbox,
    uow: UnitOfWork,
    school_id: str,
    month: date,
    version: int,
    students: Sequence[StudentMonth],
    computed_at: datetime,
) -> None:
    payload = events.BoardingChargesComputed(
        school_id=school_id,
        month=f"{month:%Y-%m}",
        version=version,
        students=[
            events.StudentCharges(
                student_id=s.student_id,
                class_id=s.class_id,
                items=[
                    events.ChargeItem(
                        kind=line.kind.value,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        gross_amount=line.gross_amount,
                        refunded_days=line.refunded_days,
                        refund_amount=line.refund_amount,
                        amount=line.amount,
                    )
                    for line in s.lines
                ],
                total=s.total,
            )
            for s in students
        ],
        total=sum(s.total for s in students),
    )
    payload.compute_time.CopyFrom(timestamp(computed_at))
    await outbox.add(uow, CHARGES_COMPUTED, payload)
