"""The gradebook's rules without a database: what a value may be for a subject, and how a student's book
turns into results, including primary (Circular 27) and what is reported missing."""

from __future__ import annotations

import pytest
from school_common.errors import InvalidArgument
from student_record.domain import curriculum
from student_record.domain import gradebook as gb
from student_record.domain.gradebook import Kind


def subject(grade: int, code: str) -> curriculum.Subject:
    found = curriculum.subject(grade, code)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("grade", "code", "periods", "regular"),
    [(6, "TOAN", 140, 4), (6, "GDCD", 35, 2), (8, "CONG_NGHE", 52, 3), (10, "LICH_SU", 52, 3),
     (10, "VAT_LI", 70, 3), (7, "GDTC", 70, 3), (3, "TIENG_VIET", 245, 0)],
)  # fmt: skip
def test_periods_fix_the_number_of_regular_assessments(grade, code, periods, regular) -> None:
    s = subject(grade, code)
    assert (s.periods, s.regular_count) == (periods, regular)


def test_the_curriculum_knows_which_grades_study_what() -> None:
    assert curriculum.subject(3, "KHOA_HOC") is None
    assert curriculum.subject(4, "KHOA_HOC") is not None
    assert curriculum.subject(2, "NGOAI_NGU_1") is None
    assert subject(4, "TOAN").mid_tested
    assert not subject(3, "TOAN").mid_tested
    assert curriculum.match(6, "Toán học").code == "TOAN"  # type: ignore[union-attr]
    assert curriculum.match(6, "TOAN").code == "TOAN"  # type: ignore[union-attr]
    assert curriculum.match(6, "ngu van").code == "NGU_VAN"  # type: ignore[union-attr]
    assert curriculum.match(6, "Vật lí") is None  # not a subject of grade 6


@pytest.mark.parametrize(
    ("code", "kind", "raw", "stored"),
    [("TOAN", Kind.REGULAR, "8,5", "8.5"), ("TOAN", Kind.END_TERM, "8.0", "8"),
     ("TOAN", Kind.MID_TERM, "10", "10"), ("GDTC", Kind.REGULAR, "Đ", "D"),
     ("GDTC", Kind.END_TERM, "chưa đạt", "CD"), ("GDTC", Kind.MID_TERM, "CĐ", "CD")],
)  # fmt: skip
def test_values_are_stored_in_one_spelling(code, kind, raw, stored) -> None:
    assert gb.parse_value(subject(6, code), kind, raw, "e") == stored


@pytest.mark.parametrize(
    ("grade", "code", "kind", "raw", "reason"),
    [(6, "TOAN", Kind.REGULAR, "10,5", "INVALID_SCORE"), (6, "TOAN", Kind.REGULAR, "8,55", "INVALID_SCORE"),
     (6, "GDTC", Kind.REGULAR, "8", "INVALID_COMMENT"),
     (4, "TOAN", Kind.END_TEST, "8.5", "INVALID_TEST_SCORE"),
     (4, "TOAN", Kind.END_RATING, "A", "INVALID_RATING")],
)  # fmt: skip
def test_values_the_rules_do_not_allow_are_refused(grade, code, kind, raw, reason) -> None:
    with pytest.raises(InvalidArgument) as caught:
        gb.parse_value(subject(grade, code), kind, raw, "entries[0]")
    assert caught.value.reason == reason
    assert caught.value.metadata["field"] == "entries[0].value"


def test_kinds_follow_the_subject() -> None:
    assert gb.check_kind(subject(6, "GDCD"), Kind.REGULAR, 2, "e") == 2
    with pytest.raises(InvalidArgument) as caught:
        gb.check_kind(subject(6, "GDCD"), Kind.REGULAR, 3, "e")  # a third where two are allowed
    assert caught.value.reason == "TOO_MANY_REGULAR_SCORES"
    assert caught.value.metadata["allowed"] == "2"
    with pytest.raises(InvalidArgument):
        gb.check_kind(subject(3, "TOAN"), Kind.MID_TEST, 1, "e")  # grade 3 has no mid-semester test
    assert gb.check_kind(subject(4, "TOAN"), Kind.MID_TEST, 0, "e") == 1
    with pytest.raises(InvalidArgument):
        gb.check_kind(subject(4, "DAO_DUC"), Kind.END_TEST, 1, "e")  # ethics has no periodic test
    with pytest.raises(InvalidArgument):
        gb.check_kind(subject(6, "TOAN"), Kind.END_RATING, 1, "e")


def test_a_semester_names_what_is_missing_instead_of_guessing() -> None:
    maths = subject(6, "TOAN")
    book = {(1, "TOAN", "REGULAR", 1): "8", (1, "TOAN", "END_TERM", 1): "9"}
    term = gb.term_of(maths, 1, book)
    assert term.value is None
    assert term.missing == ("REGULAR 2", "REGULAR 3", "REGULAR 4", "MID_TERM")


def test_a_comment_subject_is_chua_dat_when_one_assessment_is() -> None:
    pe = subject(6, "GDTC")
    book = {(1, "GDTC", "REGULAR", i): "D" for i in (1, 2, 3)} | {
        (1, "GDTC", "MID_TERM", 1): "D",
        (1, "GDTC", "END_TERM", 1): "CD",
    }
    assert gb.term_of(pe, 1, book).value == "CD"


def primary_book(rating: str, test: int, quality: str = "TOT") -> gb.StudentBook:
    assessments: dict[tuple[int, str, str, int], str] = {}
    for s in curriculum.subjects_of(5):
        for semester in (1, 2):
            assessments[(semester, s.code, "END_RATING", 1)] = rating
            if s.tested:
                assessments[(semester, s.code, "END_TEST", 1)] = str(test)
    qualities = {k: quality for k in {**curriculum.PRIMARY_QUALITIES, **curriculum.PRIMARY_COMPETENCES}}
    return gb.StudentBook(grade=5, assessments=assessments, qualities=qualities)


def test_primary_year_results() -> None:
    year = gb.results(primary_book("T", 9))[-1]
    assert year.primary is not None
    assert year.primary[0].value == "HOAN_THANH_XUAT_SAC"
    year = gb.results(primary_book("T", 8))[-1]
    assert year.primary is not None
    assert year.primary[0].value == "HOAN_THANH_TOT"
    year = gb.results(primary_book("H", 10, "DAT"))[-1]
    assert year.primary is not None
    assert year.primary[0].value == "HOAN_THANH"
    no_qualities = gb.StudentBook(grade=5, assessments=primary_book("T", 9).assessments)
    year = gb.results(no_qualities)[-1]
    assert year.primary is None
    assert "Phẩm chất, năng lực" in year.incomplete


def test_secondary_promotion_waits_for_the_absences_and_counts_46_as_too_many() -> None:
    assessments: dict[tuple[int, str, str, int], str] = {}
    for s in curriculum.subjects_of(7):
        value = "8" if s.evaluation is curriculum.Evaluation.SCORED else "D"
        for semester in (1, 2):
            for i in range(1, s.regular_count + 1):
                assessments[(semester, s.code, "REGULAR", i)] = value
            assessments[(semester, s.code, "MID_TERM", 1)] = value
            assessments[(semester, s.code, "END_TERM", 1)] = value
    book = gb.StudentBook(grade=7, assessments=assessments, conduct={1: "KHA", 2: "TOT"})
    year = gb.results(book)[-1]
    assert year.learning is not None
    assert year.learning.level.name == "TOT"
    assert year.conduct is not None
    assert year.conduct.level.name == "TOT"
    assert year.promotion is None
    assert year.award is not None
    assert year.award[0].value == "GIOI"
    assert gb.results(book, 45)[-1].promotion.decision.value == "PROMOTED"  # type: ignore[union-attr]
    assert gb.results(book, 46)[-1].promotion.decision.value == "REPEAT"  # type: ignore[union-attr]


def test_a_primary_transcript_carries_the_qualities_and_competences() -> None:
    from student_record.transcripts.service import result_tables

    terms = gb.results(primary_book("T", 9, "DAT"))
    year = terms[-1]
    assert year.qualities[0] == ("Yêu nước", "DAT")
    assert len(year.qualities) == len(curriculum.PRIMARY_QUALITIES) + len(curriculum.PRIMARY_COMPETENCES)
    tables, summary = result_tables(terms)
    [qualities] = [t for t in tables if t.title.startswith("Phẩm chất")]
    assert qualities.rows[0] == ("Yêu nước", "Đạt")
    assert ("Kết quả giáo dục", "Hoàn thành") in summary
    assert all(not t.qualities for t in terms[:2])  # the year's, not the semesters'
