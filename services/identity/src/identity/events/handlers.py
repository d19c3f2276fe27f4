"""Consumers of student-record's events: schools, classes and students as identity needs them, the
guardians recorded at enrolment (which link verified guardian accounts at once), and the reads of personal
data student-record reports for the audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, date

from school.events.audit.v1 import events_pb2 as audit_events
from school.events.student_record.v1 import events_pb2 as events
from school_common.db import UnitOfWork
from school_common.events import Event, Subscription
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from identity.access.service import AccessService
from identity.audit.record import record
from identity.models import Account, Guardianship, School, SchoolClass, Student

STREAM = "STUDENT_RECORD"
SCHOOL_CREATED = "school.student_record.school.created.v1"
CLASS_CREATED = "school.student_record.class.created.v1"
STUDENT_ENROLLED = "school.student_record.student.enrolled.v1"
GUARDIAN_ADDED = "school.student_record.guardian.recorded.v1"
STUDENT_TRANSFERRED = "school.student_record.student.transferred.v1"
PERSONAL_DATA_ACCESSED = "school.student_record.personal_data.accessed.v1"


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def audit_admin_action(uow: UnitOfWork, event: Event, action: str, target: str) -> None:
    """An administrator's change in another service, in the tenant's audit trail: who (the event's
    ``actor``), what and when; the event id keeps a redelivery from recording it twice."""
    record(
        uow,
        action,
        target,
        actor=event.actor[:64],
        source=event.source.rsplit("/", 1)[-1][:32] or "unknown",
        occurred_at=event.time,
        source_event_id=f"ce:{event.id}",
    )


class Handlers:
    def __init__(self, accounts: AccessService) -> None:
        self.accounts = accounts

    async def school_created(self, event: Event, uow: UnitOfWork) -> None:
        p = event.parse(events.SchoolCreated)
        await uow.session.execute(
            insert(School)
            .values(id=uuid.UUID(p.school_id), tenant_id=event.tenant, code=p.code, name=p.name)
            .on_conflict_do_update(index_elements=["id"], set_={"code": p.code, "name": p.name})
        )
        audit_admin_action(uow, event, "SCHOOL_CREATED", f"school:{p.school_id}")

    async def class_created(self, event: Event, uow: UnitOfWork) -> None:
        p = event.parse(events.ClassCreated)
        await uow.session.execute(
            insert(SchoolClass)
            .values(
                id=uuid.UUID(p.class_id),
                tenant_id=event.tenant,
                school_id=uuid.UUID(p.school_id),
                name=p.name,
                school_year=p.school_year,
            )
            .on_conflict_do_update(index_elements=["id"], set_={"name": p.name})
        )
        audit_admin_action(uow, event, "CLASS_CREATED", f"class:{p.class_id}")

    async def student_enrolled(self, event: Event, uow: UnitOfWork) -> None:
        p = event.parse(events.StudentEnrolled)
        student_id = uuid.UUID(p.student_id)
        born = None
        if p.date_of_birth:
            try:
                born = date.fromisoformat(p.date_of_birth)
            except ValueError:
                born = None
        values = {
            "school_id": uuid.UUID(p.school_id),
            "class_id": uuid.UUID(p.class_id),
            "full_name": p.full_name,
            "date_of_birth": born,
            "person_id": _uuid(p.person_id) if p.person_id else None,
        }
        await uow.session.execute(
            insert(Student)
            .values(id=student_id, tenant_id=event.tenant, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
        for guardian in p.guardians:
            await self._guardian(uow, student_id, guardian)
        audit_admin_action(uow, event, "STUDENT_ENROLLED", f"student:{student_id}")

    async def student_transferred(self, event: Event, uow: UnitOfWork) -> None:
        """A move or a transfer: the student's school and class follow, and with them the school their
        family's access is checked against."""
        p = event.parse(events.StudentTransferred)
        if p.to_school_id:  # a student who left the tenant stays their school's record, and their family's
            await uow.session.execute(
                update(Student)
                .where(Student.id == uuid.UUID(p.student_id))
                .values(school_id=uuid.UUID(p.to_school_id), class_id=uuid.UUID(p.to_class_id))
            )
        audit_admin_action(uow, event, f"STUDENT_{p.kind}", f"student:{p.student_id}")

    async def guardian_added(self, event: Event, uow: UnitOfWork) -> None:
        p = event.parse(events.GuardianAdded)
        await self._guardian(uow, uuid.UUID(p.student_id), p.guardian)
        audit_admin_action(uow, event, "GUARDIAN_ADDED", f"student:{p.student_id}")

    async def _guardian(self, uow: UnitOfWork, student_id: uuid.UUID, guardian: events.GuardianRef) -> None:
        person_id = _uuid(guardian.person_id) if guardian.person_id else None
        if person_id is None:
            return
        await uow.session.execute(
            insert(Guardianship)
            .values(
                id=uuid.uuid4(),
                tenant_id=uow.tenant,
                student_id=student_id,
                person_id=person_id,
                relationship=guardian.relationship or "guardian",
            )
            .on_conflict_do_nothing(index_elements=["student_id", "person_id"])
        )
        # A guardian who already signed in is linked now, without waiting for their next sign-in.
        for account in (
            await uow.session.scalars(
                select(Account).where(Account.person_id == person_id, Account.kind == "guardian")
            )
        ).all():
            await self.accounts.link_children_of(uow, account)

    async def personal_data_accessed(self, event: Event, uow: UnitOfWork) -> None:
        p = event.parse(audit_events.PersonalDataAccessed)
        record(
            uow,
            "PERSONAL_DATA_READ",
            p.target[:200],
            actor=p.actor[:64],
            source=event.source.rsplit("/", 1)[-1][:32] or "unknown",
            occurred_at=p.access_time.ToDatetime(tzinfo=UTC) if p.HasField("access_time") else event.time,
            details={"operation": p.operation[:64], "subjects": p.subjects},
            source_event_id=f"ce:{event.id}",
        )

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(
                stream=STREAM,
                durable="identity-student-records",
                handlers={
                    SCHOOL_CREATED: self.school_created,
                    CLASS_CREATED: self.class_created,
                    STUDENT_ENROLLED: self.student_enrolled,
                    GUARDIAN_ADDED: self.guardian_added,
                    STUDENT_TRANSFERRED: self.student_transferred,
                    PERSONAL_DATA_ACCESSED: self.personal_data_accessed,
                },
            )
        ]
