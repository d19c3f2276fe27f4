"""The sector database (CSDL ngành giáo dục): its spreadsheets, read and written without I/O."""

from student_record.sector.c1_hocsinh import (
    STATUS_KINDS,
    STATUS_LABELS,
    C1Guardian,
    C1Row,
    C1Sheet,
    RowProblem,
    StudentStatus,
    column_of,
    is_enrolled,
    read_c1,
    status_from_label,
    write_c1,
)

__all__ = [
    "STATUS_KINDS",
    "STATUS_LABELS",
    "C1Guardian",
    "C1Row",
    "C1Sheet",
    "RowProblem",
    "StudentStatus",
    "column_of",
    "is_enrolled",
    "read_c1",
    "status_from_label",
    "write_c1",
]
