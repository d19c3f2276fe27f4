"""Queries for students and enrolments."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from student_record.models import Enrolment, Student


async def get_student(session: AsyncSession, student_id: uuid.UUID) -> Student | None:
    return await session.get(Student, student_id)


async def enrolment_in_year(session: AsyncSession, student_id: uuid.UUID, year: str) -> Enrolment | None:
    query = select(Enrolment).where(Enrolment.student_id == student_id, Enrolment.school_year == year)
    return await session.scalar(query)


def on_roll() -> ColumnElement[bool]:
    """Students still on the school's roll: not transferred out, not dropped out (sector statuses)."""
    return ~Student.status.like("TRANSFERRED_OUT%") & ~Student.status.like("DROPPED_OUT%")


async def list_class_students(
    session: AsyncSession, class_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[Student]:
    query = (
        select(Student)
        .join(Enrolment, Enrolment.student_id == Student.id)
        .where(Enrolment.class_id == class_id, on_roll())
        .order_by(Student.id)
        .limit(limit)
    )
    if after:
        query = query.where(Student.id > after)
    return list((await session.scalars(query)).all())


async def current_class_ids(session: AsyncSession, student_id: uuid.UUID) -> list[uuid.UUID]:
    """The classes of the student's latest school year (one, as a student has one class a year): the
    teachers of an earlier year's class no longer reach the student through it."""
    latest = (
        select(func.max(Enrolment.school_year)).where(Enrolment.student_id == student_id).scalar_subquery()
    )
    query = select(Enrolment.class_id).where(
        Enrolment.student_id == student_id, Enrolment.school_year == latest
    )
    return list((await session.scalars(query)).all())
