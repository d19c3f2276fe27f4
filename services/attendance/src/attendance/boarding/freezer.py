"""Freezes each school's meal count at its cut-off, even when nobody asks for it then (worker component).

Every ``every_s`` seconds one pass:
1. lists, across tenants, the schools whose count is due (a unit of work with ``infrastructure=True``
   reading ``boarding_settings`` through its infrastructure SELECT policy: the school, its tenant, its
   cut-off and the day the freezer has dealt with up to), then
2. for each, inside that school's tenant, freezes today's count (and days it missed while no worker ran,
   up to ``catch_up_days`` back) once its cut-off has passed and it is a school day, and moves the
   school's ``counted_through`` on. The settings row is locked with SKIP LOCKED, so two workers never
   freeze one school together (the (school, date) key would make the second a no-op anyway).

A failing school is logged and retried at the next pass; the others go on.
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
from attendance.calendar.service import load_calendar
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
    ) -> None:
        self.db, self.outbox, self.clock = db, outbox, clock
        self.every_s = every_s
        self.catch_up_days = catch_up_days
        self.batch = batch

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

    async def due(self) -> list[tuple[str, uuid.UUID]]:
        """(tenant, school) of every school with a day whose cut-off passed and that it has not dealt with."""
        local = self.clock().astimezone(ZONE)
        today, at = local.date(), local.time().replace(tzinfo=None)
        through = BoardingSettingsRow.counted_through
        passed = BoardingSettingsRow.meal_cutoff <= at
        async with self.db.unit_of_work(None, infrastructure=True) as uow:
            rows = await uow.session.execute(
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
            return [(tenant, school) for tenant, school in rows.all()]

    async def freeze_due(self) -> int:
        """One pass; the number of counts it froze."""
        frozen = 0
        for tenant, school_id in await self.due():
            set_tenant(tenant)
            try:
                frozen += await self.freeze_school(tenant, school_id)
            except Exception as exc:
                log.warning("meal count freezing failed", extra={"error": type(exc).__name__})
            finally:
                set_tenant(None)
        return frozen

    async def freeze_school(self, tenant: str, school_id: uuid.UUID) -> int:
        now = self.clock()
        today = now.astimezone(ZONE).date()
        frozen = 0
        async with self.db.unit_of_work(tenant) as uow:
            row = await uow.session.scalar(
                select(BoardingSettingsRow)
                .where(BoardingSettingsRow.id == school_id)
                .with_for_update(skip_locked=True)
            )
            if row is None:  # another worker has it
                return 0
            terms = counts.terms_of(row)
            calendar = await load_calendar(uow.session, school_id)
            earliest = today - timedelta(days=self.catch_up_days)
            day = max(row.counted_through + timedelta(days=1), earliest) if row.counted_through else today
            through = row.counted_through
            while day <= today and now >= terms.cutoff(day):
                if calendar.is_school_day(day) and await counts.snapshot(uow.session, school_id, day) is None:
                    await counts.freeze(uow, self.outbox, terms, day, now)
                    frozen += 1
                through = day
                day += timedelta(days=1)
            if through != row.counted_through:
                row.counted_through = through
            await uow.commit()
        return frozen
