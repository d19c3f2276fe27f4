"""Freezes each school's meal count at its cut-off, even when nobody asks for it then (worker component).

Every ``every_s`` seconds one pass:
1. lists, across tenants, the schools whose count is due (a unit of work with ``infrastructure=True``
   reading ``boarding_settings`` through its infrastructure SELECT policy: the school, its tenant, its
   cut-off and the day the freezer has dealt with up to), ``batch`` at a time in (tenant, school) order;
   while a batch is full the next one is listed at once (after the last school listed, so a school
   another worker holds is not listed again in the same pass), then
2. freezes them ``concurrency`` at a time, each in its own unit of work inside that school's tenant:
   today's count (and days it missed while no worker ran, up to ``catch_up_days`` back) once its
   cut-off has passed and it is a school day (calendar and school year) that a registration covers, and
   moves the school's ``counted_through`` on. The settings row is locked with SKIP LOCKED, so two
   workers never freeze one school together (the (school, date) key would make the second a no-op
   anyway); a use case holding it (a registration, a read freezing, the charges) makes this pass skip
   the school, the next pass takes it.

A failing school is logged and retried at the next pass; the others go on. There is no bound in
seconds on when a count freezes: the first pass that starts after the cut-off freezes it, and passes
start ``every_s`` after the previous pass ends; until then the first read freezes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from school_common.context import set_tenant
from school_common.db import Database
from school_common.events import Outbox
from sqlalchemy import and_, or_, select

from attendance.boarding import counts
from attendance.boarding.models import BoardingSettingsRow
from attendance.domain.calendar import ZONE, Clock

log = logging.getLogger(__name__)


class MealCountFreezer:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        clock: Clock,
        *,
        every_s: float = 30.0,
        catch_up_days: int = 7,
        batch: int = 500,
        concurrency: int = 4,
    ) -> None:
        self.db, self.outbox, self.clock = db, outbox, clock
        self.every_s = every_s
        self.catch_up_days = catch_up_days
        self.batch = batch
        self.concurrency = concurrency

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                frozen = await self.freeze_due()
                if frozen:
                    log.info("meal counts frozen", extra={"count": frozen})
            except Exception as exc:
                log.warning("meal count freezing pass failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def due(self, after: tuple[str, uuid.UUID] | None = None) -> list[tuple[str, uuid.UUID]]:
        """(tenant, school) of every school with a day whose cut-off passed and that it has not dealt
        with, ``batch`` at most, after ``after`` in (tenant, school) order."""
        local = self.clock().astimezone(ZONE)
        today, at = local.date(), local.time().replace(tzinfo=None)
        through = BoardingSettingsRow.counted_through
        passed = BoardingSettingsRow.meal_cutoff <= at
        query = (
            select(BoardingSettingsRow.tenant_id, BoardingSettingsRow.id)
            .where(
                or_(
                    and_(through.is_(None), passed),
                    through < today - timedelta(days=1),
                    and_(through < today, passed),
                )
            )
            .order_by(BoardingSettingsRow.tenant_id, BoardingSettingsRow.id)
            .limit(self.batch)
        )
        if after is not None:
            tenant, school_id = after
            query = query.where(
                or_(
                    BoardingSettingsRow.tenant_id > tenant,
                    and_(BoardingSettingsRow.tenant_id == tenant, BoardingSettingsRow.id > school_id),
                )
            )
        async with self.db.unit_of_work(None, infrastructure=True) as uow:
            rows = await uow.session.execute(query)
            return [(tenant, school) for tenant, school in rows.all()]

    async def freeze_due(self) -> int:
        """One pass over every due school; the number of counts it froze."""
        limit = asyncio.Semaphore(self.concurrency)

        async def one(tenant: str, school_id: uuid.UUID) -> int:
            async with limit:  # each in its own task: the tenant set here is this task's alone
                set_tenant(tenant)
                try:
                    return await self.freeze_school(tenant, school_id)
                except Exception as exc:
                    log.warning("meal count freezing failed", extra={"error": type(exc).__name__})
                    return 0
                finally:
                    set_tenant(None)

        frozen = 0
        after: tuple[str, uuid.UUID] | None = None
        while True:
            batch = await self.due(after)
            frozen += sum(await asyncio.gather(*(one(tenant, school) for tenant, school in batch)))
            if len(batch) < self.batch:
                return frozen
            after = batch[-1]

    async def freeze_school(self, tenant: str, school_id: uuid.UUID) -> int:
        frozen = 0
        async with self.db.unit_of_work(tenant) as uow:
            row = await counts.lock_settings(uow, school_id, skip_locked=True)
            if row is None:  # another worker (or a use case) has it
                return 0
            now = self.clock()  # read once the lock is held, as registering does
            today = now.astimezone(ZONE).date()
            terms = counts.terms_of(row)
            earliest = today - timedelta(days=self.catch_up_days)
            day = max(row.counted_through + timedelta(days=1), earliest) if row.counted_through else today
            school_days = await counts.school_days(uow.session, school_id, min(day, today), today)
            through = row.counted_through
            while day <= today and now >= terms.cutoff(day):
                if school_days(day) and await counts.snapshot(uow.session, school_id, day) is None:
                    count = await counts.freeze(
                        uow, self.outbox, self.clock, school_id, day, school_days.meal_session
                    )
                    if count is not None:  # None: nobody registered for the day, nothing to count
                        frozen += 1
                through = day
                day += timedelta(days=1)
            if through != row.counted_through:
                row.counted_through = through
            await uow.commit()
        return frozen
