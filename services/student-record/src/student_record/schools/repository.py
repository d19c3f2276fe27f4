"""Queries for schools and classes. RLS scopes every query to the unit of work's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from student_record.models import School, SchoolClass


async def get_school(session: AsyncSession, school_id: uuid.UUID) -> School | None:
    return await session.get(School, school_id)


async def list_schools(
    session: AsyncSession, after: uuid.UUID | None, limit: int, only: Collection[uuid.UUID] | None = None
) -> list[School]:
    """Schools by creation; ``only`` restricts them to those ids (``None``: every school)."""
    query = select(School).order_by(School.id).limit(limit)
    if after:
        query = query.where(School.id > after)
    if only is not None:
        query = query.where(School.id.in_(only))
    return list((await session.scalars(query)).all())


async def school_code_taken(session: AsyncSession, code: str) -> bool:
    return (await session.scalar(select(School.id).where(School.code == code))) is not None


async def get_class(session: AsyncSession, class_id: uuid.UUID) -> SchoolClass | None:
    return await session.get(SchoolClass, class_id)


async def class_name_taken(session: AsyncSession, school_id: uuid.UUID, year: str, name: str) -> bool:
    query = select(SchoolClass.id).where(
        SchoolClass.school_id == school_id, SchoolClass.school_year == year, SchoolClass.name == name
    )
    return (await session.scalar(query)) is not None


async def list_classes(
    session: AsyncSession,
    school_id: uuid.UUID,
    after: uuid.UUID | None,
    limit: int,
    only: Collection[uuid.UUID] | None = None,
) -> list[SchoolClass]:
    """A school's classes by creation; ``only`` restricts them to those ids (``None``: every class)."""
    query = (
        select(SchoolClass).where(SchoolClass.school_id == school_id).order_by(SchoolClass.id).limit(limit)
    )
    if after:
        query = query.where(SchoolClass.id > after)
    if only is not None:
        query = query.where(SchoolClass.id.in_(only))
    return list((await session.scalars(query)).all())
