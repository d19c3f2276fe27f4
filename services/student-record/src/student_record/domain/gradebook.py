"""The gradebook's rules: which assessments a subject has, what a value may be, and how a student's
semester and year results follow from the recorded values (``domain/evaluation.py`` holds the arithmetic).
Pure; no I/O.

Stored values are canonical text: a score "8.5" / "10", a comment "D" (Đạt) / "CD" (Chưa đạt), a primary
rating "T" / "H" / "C", a primary test "9", a conduct level "TOT" / "KHA" / "DAT" / "CHUA_DAT", a primary
quality or competence "TOT" / "DAT" / "CAN_CO_GANG".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from school_common.errors import InvalidArgument, bilingual

from student_record.domain import evaluation as ev
from student_record.domain.curriculum import (
    PRIMARY_COMPETENCES,
    PRIMARY_QUALITIES,
    Evaluation,
    Subject,
    subjects_of,
)

SEMESTERS = (1, 2)


class Kind(StrEnum):
    REGULAR = "REGULAR"  # đánh giá thường xuyên (ordinal 1..n)
    MID_TERM = "MID_TERM"  # giữa kì
    END_TERM = "END_TERM"  # cuối kì
    MID_RATING = "MID_RATING"  # primary: giữa học kì, T / H / C
    END_RATING = "END_RATING"  # primary: cuối học kì, T / H / C
    MID_TEST = "MID_TEST"  # primary grades 4-5, Vietnamese and mathematics
    END_TEST = "END_TEST"  # primary: bài kiểm tra định kì cuối học kì


SECONDARY_KINDS = (Kind.REGULAR, Kind.MID_TERM, Kind.END_TERM)
PRIMARY_KINDS = (Kind.MID_RATING, Kind.END_RATING, Kind.MID_TEST, Kind.END_TEST)

_COMMENT_VALUES = {"d": "D", "dat": "D", "cd": "CD", "chua dat": "CD"}
_RATINGS = {"t": "T", "h": "H", "c": "C", "hoan thanh tot": "T", "hoan thanh": "H", "chua hoan thanh": "C"}
_LEVELS = {
    "tot": "TOT",
    "kha": "KHA",
    "dat": "DAT",
    "chua dat": "CHUA_DAT",
    "chua_dat": "CHUA_DAT",
    "t": "TOT",
    "k": "KHA",
    "d": "DAT",
    "cd": "CHUA_DAT",
}
_QUALITIES = {"tot": "TOT", "dat": "DAT", "can co gang": "CAN_CO_GANG", "can_co_gang": "CAN_CO_GANG"}


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.strip().casefold().replace("đ", "d"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def _bad(reason: str, fld: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en), {"field": fld})


def check_semester(semester: int, fld: str = "semester") -> int:
    if semester not in SEMESTERS:
        raise _bad("INVALID_SEMESTER", fld, "Học kì là 1 hoặc 2", "the semester is 1 or 2")
    return semester


def check_kind(subject: Subject, kind: Kind, ordinal: int, fld: str) -> int:
    """The ordinal the assessment is stored under; refuses kinds the subject does not have and a regular
    assessment beyond the subject's number (a fifth where three are allowed)."""
    if subject.evaluation is Evaluation.RATED:
        allowed = (
            kind in (Kind.MID_RATING, Kind.END_RATING)
            or (kind is Kind.END_TEST and subject.tested)
            or (kind is Kind.MID_TEST and subject.mid_tested)
        )
    else:
        allowed = kind in SECONDARY_KINDS
    if not allowed:
        raise _bad(
            "ASSESSMENT_KIND_NOT_ALLOWED",
            f"{fld}.kind",
            f"Môn {subject.name} không có loại đánh giá này",
            f"{subject.name_en} has no assessment of this kind",
        )
    if kind is Kind.REGULAR:
        if ordinal < 1:
            raise _bad(
                "INVALID_ARGUMENT",
                f"{fld}.ordinal",
                "Số thứ tự điểm thường xuyên bắt đầu từ 1",
                "regular assessments are numbered from 1",
            )
        if ordinal > subject.regular_count:
            raise InvalidArgument(
                "TOO_MANY_REGULAR_SCORES",
                bilingual(
                    f"Môn {subject.name} có {subject.regular_count} điểm đánh giá thường xuyên mỗi học kì",
                    f"{subject.name_en} has {subject.regular_count} regular assessments a semester",
                ),
                {"field": f"{fld}.ordinal", "allowed": str(subject.regular_count)},
            )
        return ordinal
    if ordinal not in (0, 1):
        raise _bad(
            "INVALID_ARGUMENT", f"{fld}.ordinal", "Chỉ có một bài đánh giá loại này", "only one of this kind"
        )
    return 1


def parse_value(subject: Subject, kind: Kind, raw: str, fld: str) -> str:
    """The canonical stored value of an assessment, or ``INVALID_SCORE`` / ``INVALID_COMMENT`` /
    ``INVALID_RATING`` / ``INVALID_TEST_SCORE``."""
    if subject.evaluation is Evaluation.SCORED:
        score = ev.parse_score(raw, f"{fld}.value")
        # One spelling per score: "8.0", "8,0" and "8" are stored as "8".
        return str(int(score)) if score == score.to_integral_value() else format(score, "f")
    if subject.evaluation is Evaluation.COMMENT:
        value = _COMMENT_VALUES.get(_plain(raw))
        if value is None:
            raise _bad(
                "INVALID_COMMENT",
                f"{fld}.value",
                f"Môn {subject.name} đánh giá bằng nhận xét: Đạt (Đ) hoặc Chưa đạt (CĐ)",
                f"{subject.name_en} is evaluated by comment: Đạt (Đ) or Chưa đạt (CĐ)",
            )
        return value
    if kind in (Kind.MID_TEST, Kind.END_TEST):
        return str(ev.parse_test_score(raw, f"{fld}.value"))
    rating = _RATINGS.get(_plain(raw))
    if rating is None:
        raise _bad(
            "INVALID_RATING",
            f"{fld}.value",
            "Mức đánh giá là T (Hoàn thành tốt), H (Hoàn thành) hoặc C (Chưa hoàn thành)",
            "a rating is T (completed well), H (completed) or C (not completed)",
        )
    return rating


def parse_conduct(raw: str, fld: str) -> str:
    value = _LEVELS.get(_plain(raw))
    if value is None:
        raise _bad(
            "INVALID_CONDUCT",
            fld,
            "Mức rèn luyện là Tốt, Khá, Đạt hoặc Chưa đạt",
            "conduct is Tốt, Khá, Đạt or Chưa đạt",
        )
    return value


def parse_quality(raw: str, fld: str) -> str:
    value = _QUALITIES.get(_plain(raw))
    if value is None:
        raise _bad(
            "INVALID_QUALITY",
            fld,
            "Mức phẩm chất, năng lực là Tốt, Đạt hoặc Cần cố gắng",
            "a quality or competence is Tốt, Đạt or Cần cố gắng",
        )
    return value


def quality_item(item: str, fld: str) -> str:
    if item not in PRIMARY_QUALITIES and item not in PRIMARY_COMPETENCES:
        raise _bad("UNKNOWN_QUALITY", fld, "Phẩm chất/năng lực không có", "no such quality or competence")
    return item


def display_value(subject: Subject | None, kind: str, value: str) -> str:
    """As a Vietnamese document prints it: 8,5 / Đ / CĐ / T / 9."""
    if value in ("D", "CD") and (subject is None or subject.evaluation is Evaluation.COMMENT):
        return {"D": "Đ", "CD": "CĐ"}[value]
    if subject is not None and subject.evaluation is Evaluation.SCORED:
        return ev.display(Decimal(value))
    return value


# ---------------------------------------------------------------- results


#: (semester, subject code, kind, ordinal) → stored value
Book = Mapping[tuple[int, str, str, int], str]


@dataclass(frozen=True)
class SubjectTerm:
    """One subject's result for a semester (1, 2) or the year (0)."""

    subject: Subject
    term: int
    value: str | None  # "8.3", "D"/"CD", "T"/"H"/"C"; None while incomplete
    missing: tuple[str, ...] = ()  # what is still to be entered, e.g. ("REGULAR 3", "END_TERM")
    test: int | None = None  # primary: the periodic test of that semester


#: What a secondary year is missing while attendance cannot say how many sessions the student missed.
ATTENDANCE = "Chuyên cần"


@dataclass(frozen=True)
class TermResult:
    term: int  # 1, 2, or 0 for the year
    subjects: tuple[SubjectTerm, ...]
    learning: ev.Outcome | None = None  # secondary
    conduct: ev.Outcome | None = None  # secondary
    promotion: ev.PromotionOutcome | None = None  # year only
    award: tuple[ev.Award, ev.Explanation] | None = None  # year only
    primary: tuple[ev.PrimaryResult, ev.Explanation] | None = None  # primary, year only
    incomplete: tuple[str, ...] = ()  # subject names (or "Rèn luyện") still missing values
    absent_sessions: int | None = None
    #: primary, year: (quality or competence, level) in the circular's order, e.g. ("Chăm chỉ", "TOT")
    qualities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StudentBook:
    grade: int
    assessments: Book
    conduct: Mapping[int, str] = field(default_factory=dict)  # semester → level
    qualities: Mapping[str, str] = field(default_factory=dict)  # item → level (end of year)


def subjects_for(grade: int, book: Book) -> tuple[Subject, ...]:
    """The subjects a student is evaluated in: the grade's curriculum; in upper secondary the compulsory
    subjects and the electives that have values."""
    used = {code for (_, code, _, _) in book}
    return tuple(s for s in subjects_of(grade) if not s.elective or s.code in used)


def term_of(subject: Subject, semester: int, book: Book) -> SubjectTerm:
    """One subject's semester result, or what is missing for it."""

    def get(kind: Kind, ordinal: int = 1) -> str | None:
        return book.get((semester, subject.code, kind.value, ordinal))

    if subject.evaluation is Evaluation.RATED:
        rating = get(Kind.END_RATING)
        test = get(Kind.END_TEST)
        missing = [
            k for k, v in (("END_RATING", rating), ("END_TEST", test if subject.tested else "-")) if not v
        ]
        return SubjectTerm(subject, semester, rating, tuple(missing), int(test) if test else None)
    regular = [get(Kind.REGULAR, i) for i in range(1, subject.regular_count + 1)]
    mid, end = get(Kind.MID_TERM), get(Kind.END_TERM)
    missing = [f"REGULAR {i}" for i, v in enumerate(regular, 1) if v is None]
    missing += [name for name, v in (("MID_TERM", mid), ("END_TERM", end)) if v is None]
    if missing:
        return SubjectTerm(subject, semester, None, tuple(missing))
    assert mid is not None
    assert end is not None
    if subject.evaluation is Evaluation.COMMENT:
        passed = ev.comment_subject_semester(v == "D" for v in [*regular, mid, end])
        return SubjectTerm(subject, semester, "D" if passed else "CD")
    average = ev.semester_average([Decimal(v) for v in regular if v], Decimal(mid), Decimal(end))
    return SubjectTerm(subject, semester, format(average, "f"))


def _year(subject: Subject, one: SubjectTerm, two: SubjectTerm) -> SubjectTerm:
    if subject.evaluation is not Evaluation.SCORED:
        return SubjectTerm(subject, 0, two.value, two.missing, two.test)  # the year is semester II's
    if one.value is None or two.value is None:
        return SubjectTerm(subject, 0, None, tuple(f"HK{t.term}" for t in (one, two) if t.value is None))
    return SubjectTerm(subject, 0, format(ev.year_average(Decimal(one.value), Decimal(two.value)), "f"))


def _subject_results(terms: Sequence[SubjectTerm]) -> list[ev.SubjectResult]:
    out = []
    for t in terms:
        assert t.value is not None
        if t.subject.evaluation is Evaluation.SCORED:
            out.append(ev.SubjectResult(t.subject.name, score=Decimal(t.value)))
        else:
            out.append(ev.SubjectResult(t.subject.name, passed=t.value == "D"))
    return out


def _level(value: str | None) -> ev.Level | None:
    return ev.Level[value] if value else None


def results(book: StudentBook, absent_sessions: int | None = None) -> tuple[TermResult, ...]:
    """Semester I, semester II and the year, as far as the recorded values allow; what is missing is
    named rather than guessed."""
    subjects = subjects_for(book.grade, book.assessments)
    by_term: dict[int, list[SubjectTerm]] = {
        s: [term_of(subject, s, book.assessments) for subject in subjects] for s in SEMESTERS
    }
    by_term[0] = [
        _year(subject, one, two) for subject, one, two in zip(subjects, by_term[1], by_term[2], strict=True)
    ]
    primary = book.grade <= 5
    out = []
    for term in (1, 2, 0):
        terms = by_term[term]
        incomplete = [t.subject.name for t in terms if t.value is None]
        learning = conduct = None
        promotion = award = primary_result = None
        if primary:
            if term == 0 and not incomplete and book.qualities:
                year = ev.PrimaryYear(
                    ratings={t.subject.name: ev.Rating(t.value) for t in terms if t.value},
                    qualities={
                        {**PRIMARY_QUALITIES, **PRIMARY_COMPETENCES}[k]: ev.Quality(v)
                        for k, v in book.qualities.items()
                    },
                    tests={t.subject.name: t.test for t in terms if t.test is not None},
                )
                primary_result = ev.primary_year_result(year)
            elif term == 0 and not book.qualities:
                incomplete.append("Phẩm chất, năng lực")
        else:
            if not incomplete:
                learning = ev.learning_result(_subject_results(terms))
            if term in SEMESTERS:
                level = _level(book.conduct.get(term))
                if level is not None:
                    conduct = ev.Outcome(
                        level,
                        ev.Explanation(
                            "C22_SEMESTER_CONDUCT",
                            f"Giáo viên chủ nhiệm đánh giá rèn luyện học kì {'I' * term}: {level.vi}",
                            f"the homeroom teacher rated conduct for semester {'I' * term}: {level.en}",
                        ),
                    )
                else:
                    incomplete.append("Rèn luyện")
            else:
                one, two = _level(book.conduct.get(1)), _level(book.conduct.get(2))
                if one is not None and two is not None:
                    conduct = ev.year_conduct(one, two)
                else:
                    incomplete.append("Rèn luyện")
            if term == 0 and absent_sessions is None:
                # Promotion needs the year's absences: without attendance's count the year is not final.
                incomplete.append(ATTENDANCE)
            if term == 0 and learning is not None and conduct is not None:
                if absent_sessions is not None:
                    promotion = ev.promotion(conduct.level, learning.level, absent_sessions)
                scores = {
                    t.subject.name: Decimal(t.value)
                    for t in terms
                    if t.value is not None and t.subject.evaluation is Evaluation.SCORED
                }
                award = ev.award(conduct.level, learning.level, scores)
        out.append(
            TermResult(
                term,
                tuple(terms),
                learning,
                conduct,
                promotion,
                award,
                primary_result,
                tuple(incomplete),
                absent_sessions if term == 0 else None,
                tuple(
                    (name, book.qualities[code])
                    for code, name in {**PRIMARY_QUALITIES, **PRIMARY_COMPETENCES}.items()
                    if code in book.qualities
                )
                if primary and term == 0
                else (),
            )
        )
    return tuple(out)
