"""The sector database's C1-HocSinh list imported into a school and exported back, on a real PostgreSQL:
rows matched by code or by name and date of birth, temporary keys swapped for codes, a per-row report,
idempotent re-import, refusals that leave the rest imported, and who may do it."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from school.events.student_record.v1 import events_pb2 as events
from school.student_record.v1 import student_record_pb2 as pb
from school_common.errors import InvalidArgument, PermissionDenied

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp", "Mã học sinh", "Trạng thái HS",
          "Số định danh cá nhân", "Họ tên mẹ", "SĐT mẹ", "Họ tên cha"]  # fmt: skip


def sheet(*rows: list[object], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(["SỞ GD&ĐT TP. HỒ CHÍ MINH - DANH SÁCH HỌC SINH"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


AN = [1, "Nguyễn Văn An", "05/09/2014", "Nam", "6A1", "", "Đang học", "", "Trần Thị Bình", "0901234567", ""]
BICH = [2, "Lê Ngọc Bích", "12/03/2014", "Nữ", "6A1", "7901234567", "Đang học", "079314000123",
        "Lê Thị Cúc", "0912345678", "Lê Văn Dũng"]  # fmt: skip


def admin_of(services, tenant: str, school_id: str) -> None:
    services.act_as(tenant, "bgh", "school_admin", schools=[(school_id, "school_admin")])


def importing(school: pb.School, content: bytes, **kw) -> pb.ImportStudentsRequest:
    return pb.ImportStudentsRequest(school_id=school.id, school_year="2025-2026", content=content, **kw)


async def test_a_school_imports_its_list_and_importing_it_again_changes_nothing(services) -> None:
    tenant = "c1-import"
    school, klass = await services.school_with_class(tenant)
    admin_of(services, tenant, school.id)
    content = sheet(AN, BICH)
    dry = await services.student_lists.import_students(importing(school, content, dry_run=True))
    assert (dry.created, dry.refused) == (2, 0)
    assert await services.count(tenant, "students") == 0  # a dry run changes nothing
    assert services.identity.registrations == []

    first = await services.student_lists.import_students(importing(school, content))
    assert (first.created, first.updated, first.unchanged, first.refused) == (2, 0, 0, 0)
    an, bich = first.rows
    assert an.row == 3
    assert an.temporary_key.startswith("TAM-")
    assert an.student_code == ""
    assert bich.student_code == "7901234567"
    assert bich.temporary_key == ""
    # Bích's number went to identity; only the person id is kept
    [registration] = services.identity.registrations
    assert registration.request.personal_id == "079314000123"
    students = (
        await services.enrolments.list_class_students(pb.ListClassStudentsRequest(class_id=klass.id))
    ).students
    by_name = {s.full_name: s for s in students}
    assert by_name["Lê Ngọc Bích"].person_id
    assert [(g.relationship, g.full_name) for g in by_name["Lê Ngọc Bích"].guardians] == [
        ("father", "Lê Văn Dũng"),
        ("mother", "Lê Thị Cúc"),
    ]
    assert len(await services.events(tenant, "student.enrolled")) == 2

    again = await services.student_lists.import_students(importing(school, content))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.rows[0].temporary_key == an.temporary_key
    assert await services.count(tenant, "students") == 2
    assert await services.count(tenant, "guardians") == 3
    assert len(await services.events(tenant, "student.enrolled")) == 2

    # the sector database assigned An's code: the temporary key gives way to it
    coded = list(AN)
    coded[5] = "7901234999"
    swapped = await services.student_lists.import_students(importing(school, sheet(coded, BICH)))
    assert (swapped.updated, swapped.unchanged) == (1, 1)
    assert swapped.rows[0].student_code == "7901234999"
    assert swapped.rows[0].temporary_key == ""
    assert swapped.rows[0].student_id == an.student_id


async def test_bad_rows_are_reported_and_the_good_ones_imported(services) -> None:
    tenant = "c1-rows"
    school, _ = await services.school_with_class(tenant)
    admin_of(services, tenant, school.id)
    other_class = list(AN)
    other_class[1], other_class[4] = "Phạm Minh Châu", "9Z9"
    bad_date = list(AN)
    bad_date[1], bad_date[2] = "Võ Thị Dạ", "30/02/2014"
    report = await services.student_lists.import_students(importing(school, sheet(AN, other_class, bad_date)))
    assert (report.created, report.refused) == (1, 2)
    refused = {r.row: r for r in report.rows if r.outcome == pb.IMPORT_OUTCOME_REFUSED}
    assert refused[4].reason == "UNKNOWN_CLASS"
    assert refused[4].column == "Lớp"
    assert refused[5].reason == "INVALID_DATE"
    assert refused[5].column == "Ngày sinh"
    assert "Võ" not in refused[5].message  # no personal data in the report

    # a code that belongs to another school's student is refused, not moved silently
    school_b, _klass_b = await services.school_with_class(tenant, "Trường THCS B", "6A1")
    admin_of(services, tenant, school_b.id)
    moved = await services.student_lists.import_students(importing(school_b, sheet(BICH)))
    assert moved.created == 1
    admin_of(services, tenant, school.id)
    taken = await services.student_lists.import_students(importing(school, sheet(BICH)))
    assert taken.rows[0].reason == "STUDENT_IN_OTHER_SCHOOL"


async def test_a_file_that_is_not_the_list_is_refused_and_changes_nothing(services) -> None:
    tenant = "c1-bad-file"
    school, _ = await services.school_with_class(tenant)
    admin_of(services, tenant, school.id)
    with pytest.raises(InvalidArgument) as caught:
        await services.student_lists.import_students(importing(school, b"not a spreadsheet"))
    assert caught.value.reason == "INVALID_SPREADSHEET"
    with pytest.raises(InvalidArgument) as caught:
        await services.student_lists.import_students(
            importing(school, sheet(["x", "y"], header=["Họ và tên", "Giới tính"]))
        )
    assert caught.value.reason == "MISSING_COLUMN"
    with pytest.raises(InvalidArgument) as caught:
        await services.student_lists.import_students(
            pb.ImportStudentsRequest(school_id=school.id, school_year="2025", content=sheet(AN))
        )
    assert caught.value.metadata["field"] == "school_year"
    assert await services.count(tenant, "students") == 0


async def test_only_the_school_admin_imports_and_exports(services) -> None:
    tenant = "c1-who"
    world = await services.world(tenant)
    services.act_as(
        tenant,
        "gvcn",
        "teacher",
        "homeroom_teacher",
        classes=[(world.class_a1.id, world.school_a.id, "homeroom_teacher", "")],
    )
    with pytest.raises(PermissionDenied):
        await services.student_lists.import_students(importing(world.school_a, sheet(AN)))
    with pytest.raises(PermissionDenied):
        await services.student_lists.export_students(
            pb.ExportStudentsRequest(school_id=world.school_a.id, school_year="2025-2026")
        )
    admin_of(services, tenant, world.school_b.id)
    with pytest.raises(PermissionDenied):
        await services.student_lists.export_students(
            pb.ExportStudentsRequest(school_id=world.school_a.id, school_year="2025-2026")
        )


async def test_the_export_is_the_template_and_imports_back_unchanged(services) -> None:
    tenant = "c1-export"
    world = await services.world(tenant)
    admin_of(services, tenant, world.school_a.id)
    before = len(await services.events(tenant, "personal_data.accessed"))
    exported = await services.student_lists.export_students(
        pb.ExportStudentsRequest(school_id=world.school_a.id, school_year="2025-2026")
    )
    assert exported.students == 2
    assert exported.filename.endswith("2025-2026.xlsx")
    ws = load_workbook(io.BytesIO(exported.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[1])
    assert header[:6] == ["STT", "Mã lớp", "Mã học sinh", "Họ tên", "Ngày sinh", "Giới tính"]
    an = next(dict(zip(header, row, strict=False)) for row in rows[2:] if row[3] == "Nguyễn Văn An")
    assert (an["Mã lớp"], an["Ngày sinh"], an["Giới tính"]) == ("6A1", "05/09/2014", "Nam")
    assert an["Mã học sinh"] in (None, "")  # the temporary key never goes to the sector database
    assert an["Họ tên mẹ"] == "Trần Thị Bình"
    assert len(await services.events(tenant, "personal_data.accessed")) == before + 1
    back = await services.student_lists.import_students(importing(world.school_a, exported.content))
    assert (back.created, back.updated, back.refused) == (0, 0, 0)
    assert back.unchanged == 2
    event = events.StudentEnrolled.FromString((await services.events(tenant, "student.enrolled"))[0])
    assert event.full_name == "Nguyễn Văn An"
