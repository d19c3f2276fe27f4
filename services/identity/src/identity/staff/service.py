"""Staff accounts and their assignments, imported from the sector database's staff spreadsheet.

Each row becomes (or updates) a person (verified against the population register), a Keycloak user with
the row's roles, an account and its assignments at the row's school. The row is the truth for that
person's assignments at that school, so importing the same file again finds every row UNCHANGED.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
import zipfile
from typing import Any

from keycloak.exceptions import KeycloakError
from school.identity.v1 import identity_pb2 as pb
from school_common import access
from school_common.access import Action, Resource, authorize
from school_common.db import Database, UnitOfWork
from school_common.errors import DomainError, InvalidArgument, bilingual
from school_common.ids import parse_uuid
from sqlalchemy import select

from identity.access.service import AccessService, tenant_principal, verification_of
from identity.adapters.keycloak import Keycloak
from identity.audit.record import record
from identity.domain import staff_sheet
from identity.models import Account, Assignment, Person, School, SchoolClass, StaffImport
from identity.people.service import PENDING, PersonService, check_claim

log = logging.getLogger(__name__)

MAX_ROWS = 5000
ADMIN_ROLES = {"school_admin"}


def _refused(row: int, column: str, reason: str, vi: str, en: str) -> pb.ImportRow:
    return pb.ImportRow(
        row=row,
        outcome=pb.ROW_OUTCOME_REFUSED,
        problems=[pb.RowProblem(column=column, reason=reason, message=f"{vi} / {en}")],
    )


def read_sheet(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidArgument(
            "UNREADABLE_SPREADSHEET",
            bilingual("Không đọc được tệp: cần tệp Excel .xlsx", "the file is not a readable .xlsx workbook"),
            {"field": "content"},
        ) from exc
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 20)]
    workbook.close()
    return rows


class StaffService:
    def __init__(
        self, db: Database, keycloak: Keycloak, people: PersonService, accounts: AccessService
    ) -> None:
        self.db = db
        self.keycloak = keycloak
        self.people = people
        self.accounts = accounts

    async def import_staff(self, request: pb.ImportStaffRequest) -> pb.ImportStaffResponse:
        principal = tenant_principal()
        scope = await self.accounts.scope_of(principal)
        if not (scope.tenant_wide or any(access.SCHOOL_ADMIN in r for r in scope.schools.values())):
            authorize(scope, Action.ADMIN, Resource.tenant())
        if not request.content:
            raise InvalidArgument(
                "EMPTY_FILE",
                bilingual("Tệp tải lên trống", "the uploaded file is empty"),
                {"field": "content"},
            )
        rows = read_sheet(request.content)
        header_index, columns = staff_sheet.find_header(rows)
        missing = [c for c in staff_sheet.REQUIRED if c not in columns]
        if missing:
            raise InvalidArgument(
                "MISSING_COLUMNS",
                bilingual(
                    "Thiếu cột bắt buộc: " + ", ".join(staff_sheet.COLUMNS[c][0] for c in missing),
                    "required columns not found: " + ", ".join(missing),
                ),
                {"columns": ",".join(missing)},
            )
        data = [
            (header_index + 2 + i, r)
            for i, r in enumerate(rows[header_index + 1 :])
            if not staff_sheet.is_blank(r)
        ]
        if len(data) > MAX_ROWS:
            raise InvalidArgument(
                "TOO_MANY_ROWS",
                bilingual(f"Tối đa {MAX_ROWS} dòng mỗi lần nhập", f"at most {MAX_ROWS} rows per import"),
            )
        header_row = rows[header_index]
        response = pb.ImportStaffResponse(
            columns={name: str(header_row[index]) for name, index in columns.items()}
        )
        seen: set[str] = set()
        for number, cells in data:
            try:
                outcome = await self._row(
                    principal.tenant, scope, staff_sheet.parse_row(number, cells, columns), seen
                )
            except DomainError as exc:
                outcome = pb.ImportRow(
                    row=number,
                    outcome=pb.ROW_OUTCOME_REFUSED,
                    problems=[
                        pb.RowProblem(
                            column=exc.metadata.get("field", ""), reason=exc.reason, message=exc.message
                        )
                    ],
                )
            response.rows.append(outcome)
        for r in response.rows:
            if r.outcome == pb.ROW_OUTCOME_CREATED:
                response.created += 1
            elif r.outcome == pb.ROW_OUTCOME_UPDATED:
                response.updated += 1
            elif r.outcome == pb.ROW_OUTCOME_UNCHANGED:
                response.unchanged += 1
            else:
                response.refused += 1
        async with self.db.unit_of_work(principal.tenant) as uow:
            entry = StaffImport(
                tenant_id=principal.tenant,
                file_sha256=hashlib.sha256(request.content).hexdigest(),
                filename=request.filename[:255],
                imported_by=principal.subject,
                report=b"",
            )
            uow.session.add(entry)
            await uow.session.flush()
            response.import_id = str(entry.id)
            entry.report = response.SerializeToString()
            record(
                uow,
                "STAFF_IMPORTED",
                f"staff_import:{entry.id}",
                details={
                    "created": response.created,
                    "updated": response.updated,
                    "unchanged": response.unchanged,
                    "refused": response.refused,
                },
            )
            await uow.commit()
        return response

    async def _row(
        self, tenant: str, scope: access.Scope, row: staff_sheet.StaffRow, seen: set[str]
    ) -> pb.ImportRow:
        if row.problems:
            return pb.ImportRow(
                row=row.row,
                outcome=pb.ROW_OUTCOME_REFUSED,
                problems=[
                    pb.RowProblem(column=p.column, reason=p.reason, message=p.message) for p in row.problems
                ],
            )
        assert row.date_of_birth is not None
        claim = check_claim(row.personal_id, row.full_name, row.date_of_birth.isoformat())
        if claim.personal_id in seen or row.email in seen:
            return _refused(
                row.row,
                "personal_id",
                "DUPLICATE_ROW",
                "Người này đã có ở dòng trước",
                "this person is on an earlier row",
            )
        seen.update({claim.personal_id, row.email})

        async with self.db.unit_of_work(tenant) as uow:
            school = await uow.session.scalar(select(School).where(School.code == row.school_code))
            if school is None:
                return _refused(
                    row.row,
                    "school_code",
                    "UNKNOWN_SCHOOL_CODE",
                    "Mã trường không có trong đơn vị",
                    "no school of the tenant has this code",
                )
            if not access.decide(scope, Action.ADMIN, Resource.school(str(school.id))):
                return _refused(
                    row.row,
                    "school_code",
                    "NOT_YOUR_SCHOOL",
                    "Bạn không quản trị trường này",
                    "you do not administer this school",
                )
            wanted = await self._wanted_assignments(uow, row, school.id)
            if isinstance(wanted, pb.ImportRow):
                return wanted
            person, created_person = await self.people.find_or_create(uow, claim)
            if not created_person and person.date_of_birth not in (None, claim.date_of_birth):
                return _refused(
                    row.row,
                    "date_of_birth",
                    "PERSON_DETAILS_DIFFER",
                    "Ngày sinh khác với hồ sơ đã có của số định danh này",
                    "date of birth differs from the record of this number",
                )
            existing = await uow.session.scalar(
                select(Account).where(Account.person_id == person.id, Account.kind == "staff")
            )
            await uow.commit()
        if created_person:
            await self.people.verify_now(tenant, person.id, claim)

        try:
            subject, user_created, missing_roles = await self._keycloak_user(
                tenant, row, claim.full_name, wanted
            )
        except KeycloakError as exc:
            log.warning("staff account not provisioned in keycloak", extra={"error": type(exc).__name__})
            return _refused(
                row.row,
                "email",
                "ACCOUNT_NOT_PROVISIONED",
                "Không tạo được tài khoản đăng nhập lúc này, hãy nhập lại tệp sau",
                "the sign-in account could not be created now; import the file again later",
            )
        return await self._save(
            tenant,
            row,
            claim.full_name,
            person.id,
            school.id,
            wanted,
            existing,
            subject,
            user_created or bool(missing_roles),
        )

    async def _keycloak_user(
        self,
        tenant: str,
        row: staff_sheet.StaffRow,
        full_name: str,
        wanted: set[tuple[str, uuid.UUID | None, str]],
    ) -> tuple[str, bool, list[str]]:
        """The staff member's Keycloak user (by username or e-mail, else created) with the row's roles."""
        realm = f"tenant-{tenant}"
        roles = sorted({a[0] for a in wanted})
        user = await self.keycloak.find_user(realm, row.email, row.email)
        family, given = staff_sheet.split_name(full_name)
        user_created = False
        if user is None:
            required = ["UPDATE_PASSWORD"] + (["CONFIGURE_TOTP"] if set(roles) & ADMIN_ROLES else [])
            subject = await self.keycloak.create_user(
                realm,
                {
                    "username": row.email,
                    "email": row.email,
                    "emailVerified": False,
                    "firstName": given,
                    "lastName": family,
                    "enabled": True,
                    "requiredActions": required,
                },
            )
            user_created = True
        else:
            subject = str(user["id"])
        have = await self.keycloak.realm_roles_of(realm, subject)
        missing_roles = [r for r in roles if r not in have]
        if missing_roles:
            await self.keycloak.assign_realm_roles(realm, subject, missing_roles)
        return subject, user_created, missing_roles

    async def _save(
        self,
        tenant: str,
        row: staff_sheet.StaffRow,
        full_name: str,
        person_id: uuid.UUID,
        school_id: uuid.UUID,
        wanted: set[tuple[str, uuid.UUID | None, str]],
        existing: Account | None,
        subject: str,
        changed: bool,
    ) -> pb.ImportRow:
        """The account and its assignments at the school, as the row says."""
        async with self.db.unit_of_work(tenant) as uow:
            account = existing or await uow.session.scalar(select(Account).where(Account.subject == subject))
            if account is None:
                account = Account(
                    tenant_id=tenant,
                    subject=subject,
                    username=row.email,
                    display_name=full_name,
                    kind="staff",
                    person_id=person_id,
                    staff_code=row.staff_code or None,
                    email=row.email,
                )
                uow.session.add(account)
                await uow.session.flush()
                changed = True
            else:
                account = await uow.session.merge(account)
                for name, value in (
                    ("display_name", full_name),
                    ("person_id", person_id),
                    ("staff_code", row.staff_code or None),
                    ("email", row.email),
                    ("kind", "staff"),
                ):
                    if getattr(account, name) != value:
                        setattr(account, name, value)
                        changed = True
            current = (
                await uow.session.scalars(
                    select(Assignment).where(
                        Assignment.account_id == account.id, Assignment.school_id == school_id
                    )
                )
            ).all()
            have_set = {(a.role, a.class_id, a.subject) for a in current}
            for a in current:
                if (a.role, a.class_id, a.subject) not in wanted:
                    await uow.session.delete(a)
                    changed = True
            for role, class_id, subject_name in wanted - have_set:
                uow.session.add(
                    Assignment(
                        tenant_id=tenant,
                        account_id=account.id,
                        role=role,
                        school_id=school_id,
                        class_id=class_id,
                        subject=subject_name,
                    )
                )
                changed = True
            fresh = await uow.session.get(Person, person_id, populate_existing=True)
            if changed:
                record(
                    uow,
                    "STAFF_ACCOUNT_UPDATED" if existing else "STAFF_ACCOUNT_CREATED",
                    f"account:{account.id}",
                )
            await uow.commit()
            status = fresh.verification_status if fresh else PENDING
        outcome = (
            pb.ROW_OUTCOME_CREATED
            if existing is None and changed
            else pb.ROW_OUTCOME_UPDATED
            if changed
            else pb.ROW_OUTCOME_UNCHANGED
        )
        return pb.ImportRow(
            row=row.row,
            outcome=outcome,
            account_id=str(account.id),
            verification_status=pb.VerificationStatus.Value(f"VERIFICATION_STATUS_{status}"),
        )

    async def _wanted_assignments(
        self, uow: UnitOfWork, row: staff_sheet.StaffRow, school_id: uuid.UUID
    ) -> set[tuple[str, uuid.UUID | None, str]] | pb.ImportRow:
        if row.role != "teacher":
            return {(row.role, None, "")}
        wanted: set[tuple[str, uuid.UUID | None, str]] = set()
        names = ([row.homeroom_class] if row.homeroom_class else []) + row.teaching_classes
        classes = {
            c.name.casefold(): c.id
            for c in (
                await uow.session.scalars(
                    select(SchoolClass)
                    .where(SchoolClass.school_id == school_id)
                    .order_by(SchoolClass.school_year)  # the latest school year wins
                )
            ).all()
        }
        for name in names:
            if name.casefold() not in classes:
                return _refused(
                    row.row,
                    "teaching_classes" if name != row.homeroom_class else "homeroom_class",
                    "UNKNOWN_CLASS",
                    f"Trường không có lớp {name}",
                    f"the school has no class {name}",
                )
        if row.homeroom_class:
            wanted.add(("homeroom_teacher", classes[row.homeroom_class.casefold()], ""))
        for name in row.teaching_classes:
            wanted.add(("teacher", classes[name.casefold()], row.subject))
        if not wanted:
            wanted.add(("teacher", None, row.subject))
        return wanted

    async def list_staff(self, request: pb.ListStaffRequest) -> pb.ListStaffResponse:
        principal = tenant_principal()
        scope = await self.accounts.scope_of(principal)
        school_id = parse_uuid(request.school_id) if request.school_id else None
        if request.school_id and school_id is None:
            raise InvalidArgument(
                "INVALID_SCHOOL_ID",
                bilingual("Mã trường không hợp lệ", "school_id is not a valid id"),
                {"field": "school_id"},
            )
        if school_id is not None:
            authorize(scope, Action.ADMIN, Resource.school(str(school_id)))
        elif not scope.tenant_wide:
            authorize(scope, Action.ADMIN, Resource.tenant())
        page_size = request.page_size or 50
        if not 1 <= page_size <= 200:
            raise InvalidArgument(
                "INVALID_PAGE_SIZE",
                bilingual("page_size từ 1 đến 200", "page_size must be 1-200"),
                {"field": "page_size"},
            )
        after = parse_uuid(request.page_token) if request.page_token else None
        if request.page_token and after is None:
            raise InvalidArgument(
                "INVALID_PAGE_TOKEN",
                bilingual("page_token không hợp lệ", "page_token is not valid"),
                {"field": "page_token"},
            )
        async with self.db.unit_of_work(principal.tenant) as uow:
            query = select(Account).where(Account.kind == "staff").order_by(Account.id).limit(page_size + 1)
            if school_id is not None:
                query = query.where(
                    Account.id.in_(select(Assignment.account_id).where(Assignment.school_id == school_id))
                )
            if after is not None:
                query = query.where(Account.id > after)
            accounts = list((await uow.session.scalars(query)).all())
            more = len(accounts) > page_size
            accounts = accounts[:page_size]
            ids = [a.id for a in accounts]
            assignments = (
                await uow.session.scalars(select(Assignment).where(Assignment.account_id.in_(ids)))
            ).all()
            persons = {
                p.id: p
                for p in (
                    await uow.session.scalars(
                        select(Person).where(Person.id.in_([a.person_id for a in accounts if a.person_id]))
                    )
                ).all()
            }
            record(
                uow,
                "STAFF_LIST_READ",
                f"school:{school_id}" if school_id else "tenant",
                details={"count": len(accounts)},
            )
            await uow.commit()
        response = pb.ListStaffResponse(next_page_token=str(accounts[-1].id) if more else "")
        for a in accounts:
            response.staff.append(
                pb.StaffMember(
                    account_id=str(a.id),
                    subject=a.subject,
                    username=a.username,
                    full_name=a.display_name,
                    staff_code=a.staff_code or "",
                    assignments=[
                        pb.Assignment(
                            role=x.role,
                            school_id=str(x.school_id or ""),
                            class_id=str(x.class_id or ""),
                            subject=x.subject,
                        )
                        for x in assignments
                        if x.account_id == a.id
                    ],
                    verification=verification_of(persons.get(a.person_id) if a.person_id else None),
                )
            )
        return response
