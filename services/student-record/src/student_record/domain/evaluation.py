"""Evaluation by the Ministry's rules: Circular 22/2021/TT-BGDĐT (lower and upper secondary) and
Circular 27/2020/TT-BGDĐT (primary). Pure functions, ``Decimal`` arithmetic, no I/O.

Every result comes with its :class:`Explanation`: which rule decided it and which subjects, in Vietnamese
and English, so a parent can be told why a result is Khá and not Tốt. Nothing here compares students.

The rules, as DOMAIN.md states them:

- a score is 0–10, an integer or one decimal; "8,5" and "8.5" are the same score;
- regular assessments per semester: 2 for subjects of ≤35 periods a year, 3 for 36–70, 4 for more;
- semester average = (Σ regular + 2·mid + 3·end) / (number of regular + 5); year average =
  (semester I + 2·semester II) / 3; both rounded to one decimal, half up (8.25 → 8.3);
- learning result Tốt / Khá / Đạt / Chưa đạt by thresholds, raised one level when exactly one subject
  pulled it down two levels or more;
- year conduct from the two semesters; promotion needs conduct and learning ≥ Đạt and at most 45
  sessions absent; awards Xuất sắc and Giỏi;
- primary: T / H / C ratings, integer periodic tests, and the year result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import IntEnum, StrEnum

from school_common.errors import InvalidArgument, bilingual

ONE_DECIMAL = Decimal("0.1")
MAX_SCORE = Decimal(10)
MAX_ABSENT_SESSIONS = 45
MIN_SCORED_SUBJECTS = 6  # "at least 6 scored subjects ≥ …"
_SCORE_TEXT = re.compile(r"^(?:10|[0-9])(?:[.,][0-9])?$")


# ---------------------------------------------------------------- scores


def parse_score(value: str | int | Decimal, field: str = "score") -> Decimal:
    """A score on the 10-point scale: an integer or one decimal, comma or point ("8,5" = "8.5").

    Refused with ``INVALID_SCORE``: more than one decimal ("8,55"), above 10 (10.5), negative, not a number.
    """
    if isinstance(value, bool):
        raise _bad_score(field)
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = value.strip()
    if not _SCORE_TEXT.fullmatch(text) and not (isinstance(value, Decimal) and _decimal_ok(value)):
        raise _bad_score(field)
    try:
        score = Decimal(text.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
        raise _bad_score(field) from exc
    if not Decimal(0) <= score <= MAX_SCORE:
        raise _bad_score(field)
    return score


def _decimal_ok(value: Decimal) -> bool:
    return value.is_finite() and value == value.quantize(ONE_DECIMAL) and Decimal(0) <= value <= MAX_SCORE


def _bad_score(field: str) -> InvalidArgument:
    return InvalidArgument(
        "INVALID_SCORE",
        bilingual(
            "Điểm từ 0 đến 10, là số nguyên hoặc có một chữ số thập phân (ví dụ 8 hoặc 8,5)",
            "a score is 0 to 10, an integer or with one decimal (e.g. 8 or 8.5)",
        ),
        {"field": field},
    )


def parse_test_score(value: str | int, field: str = "score") -> int:
    """A primary periodic test score (Circular 27): an integer 0–10."""
    text = str(value).strip()
    if not re.fullmatch(r"10|[0-9]", text):
        raise InvalidArgument(
            "INVALID_TEST_SCORE",
            bilingual(
                "Điểm kiểm tra định kì ở tiểu học là số nguyên từ 0 đến 10",
                "a primary periodic test score is an integer from 0 to 10",
            ),
            {"field": field},
        )
    return int(text)


def round1(value: Decimal) -> Decimal:
    """One decimal, half up: 8.25 → 8.3 (float ``round`` would give 8.2)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def display(score: Decimal) -> str:
    """As Vietnamese documents write it: a decimal comma (8,3)."""
    return format(score, "f").replace(".", ",")


# ---------------------------------------------------------------- explanations


@dataclass(frozen=True)
class Explanation:
    """Why a result is what it is: the rule applied and the subjects that decided it."""

    rule: str
    vi: str
    en: str
    subjects: tuple[str, ...] = ()

    def text(self) -> str:
        return bilingual(self.vi, self.en)


class Level(IntEnum):
    """The four levels of learning results and of conduct (Circular 22)."""

    CHUA_DAT = 0
    DAT = 1
    KHA = 2
    TOT = 3

    @property
    def vi(self) -> str:
        return {0: "Chưa đạt", 1: "Đạt", 2: "Khá", 3: "Tốt"}[int(self)]

    @property
    def en(self) -> str:
        return {0: "Not achieved", 1: "Achieved", 2: "Good", 3: "Very good"}[int(self)]


@dataclass(frozen=True)
class Outcome:
    level: Level
    explanation: Explanation


# ---------------------------------------------------------------- Circular 22: subject averages


def regular_assessments(periods_per_year: int) -> int:
    """How many regular assessments a semester has for a subject with this many periods a year."""
    if periods_per_year <= 0:
        raise ValueError("periods_per_year must be positive")
    if periods_per_year <= 35:
        return 2
    if periods_per_year <= 70:
        return 3
    return 4


def check_regular_count(scores: Sequence[Decimal], periods_per_year: int, field: str = "regular") -> None:
    """Refuses more regular scores than the subject allows (a fifth where three are allowed)."""
    allowed = regular_assessments(periods_per_year)
    if len(scores) > allowed:
        raise InvalidArgument(
            "TOO_MANY_REGULAR_SCORES",
            bilingual(
                f"Môn học này có {allowed} điểm đánh giá thường xuyên mỗi học kì",
                f"this subject has {allowed} regular assessments a semester",
            ),
            {"field": field, "allowed": str(allowed)},
        )


def semester_average(regular: Sequence[Decimal], mid: Decimal, end: Decimal) -> Decimal:
    """ĐTBmhk = (Σ regular + 2·mid + 3·end) / (number of regular + 5), rounded half up to 0.1."""
    if not regular:
        raise ValueError("a semester average needs the regular scores")
    total = sum(regular, Decimal(0)) + 2 * mid + 3 * end
    return round1(total / (len(regular) + 5))


def year_average(semester_1: Decimal, semester_2: Decimal) -> Decimal:
    """ĐTBmcn = (ĐTBmhkI + 2·ĐTBmhkII) / 3, rounded half up to 0.1."""
    return round1((semester_1 + 2 * semester_2) / 3)


def comment_subject_semester(assessments: Iterable[bool]) -> bool:
    """A comment-only subject is Đạt for the semester when every required assessment is Đạt."""
    values = list(assessments)
    return bool(values) and all(values)


# ---------------------------------------------------------------- Circular 22: learning result


@dataclass(frozen=True)
class SubjectResult:
    """One subject's semester or year result: a score, or for a comment subject Đạt (True) / Chưa đạt
    (False)."""

    name: str
    score: Decimal | None = None
    passed: bool | None = None

    @property
    def scored(self) -> bool:
        return self.score is not None


def _level(subjects: Sequence[SubjectResult], exempt: str | None = None) -> tuple[Level, Explanation]:
    """The level by the thresholds. ``exempt`` names one subject whose floors ("all …", "none …") are not
    applied, while its score still counts towards "at least 6 …"."""
    scored = [s for s in subjects if s.scored]
    comments = [s for s in subjects if not s.scored]
    floors_scored = [s for s in scored if s.name != exempt]
    floors_comments = [s for s in comments if s.name != exempt]
    failed_comments = [s.name for s in floors_comments if not s.passed]

    def at_least(threshold: str) -> int:
        return sum(1 for s in scored if s.score is not None and s.score >= Decimal(threshold))

    def below(threshold: str) -> list[str]:
        return [s.name for s in floors_scored if s.score is not None and s.score < Decimal(threshold)]

    if not failed_comments and not below("6.5") and at_least("8.0") >= MIN_SCORED_SUBJECTS:
        return Level.TOT, Explanation(
            "C22_LEARNING_TOT",
            "Tất cả môn đánh giá bằng nhận xét Đạt, mọi môn tính điểm từ 6,5 trở lên, ít nhất 6 môn từ 8,0",
            "every comment subject achieved, every scored subject 6.5 or above, at least 6 at 8.0 or above",
        )
    if not failed_comments and not below("5.0") and at_least("6.5") >= MIN_SCORED_SUBJECTS:
        why_not = below("6.5") or ([] if at_least("8.0") >= MIN_SCORED_SUBJECTS else ["(< 6 môn ≥ 8,0)"])
        return Level.KHA, Explanation(
            "C22_LEARNING_KHA",
            "Đạt mức Khá: mọi môn từ 5,0, ít nhất 6 môn từ 6,5; chưa đạt mức Tốt vì: " + ", ".join(why_not),
            "Good: every subject 5.0 or above, at least 6 at 6.5; not Very good because of: "
            + ", ".join(why_not),
            tuple(s for s in why_not if not s.startswith("(")),
        )
    if len(failed_comments) <= 1 and not below("3.5") and at_least("5.0") >= MIN_SCORED_SUBJECTS:
        why_not = failed_comments + below("5.0")
        if not why_not:
            why_not = ["(< 6 môn ≥ 6,5)"]
        return Level.DAT, Explanation(
            "C22_LEARNING_DAT",
            "Đạt: nhiều nhất một môn nhận xét Chưa đạt, ít nhất 6 môn từ 5,0, không môn nào dưới 3,5; "
            "chưa đạt mức Khá vì: " + ", ".join(why_not),
            "Achieved: at most one comment subject not achieved, at least 6 at 5.0, none below 3.5; not Good "
            "because of: " + ", ".join(why_not),
            tuple(s for s in why_not if not s.startswith("(")),
        )
    causes = below("3.5") + (failed_comments if len(failed_comments) > 1 else [])
    if not causes:
        causes = ["(< 6 môn ≥ 5,0)"]
    return Level.CHUA_DAT, Explanation(
        "C22_LEARNING_CHUA_DAT",
        "Chưa đạt vì: " + ", ".join(causes),
        "Not achieved because of: " + ", ".join(causes),
        tuple(s for s in causes if not s.startswith("(")),
    )


def learning_result(subjects: Sequence[SubjectResult]) -> Outcome:
    """The semester or year learning result, with the one-subject adjustment (Circular 22, Art. 9):
    when the level falls two levels or more only because of one subject, it is raised one level."""
    names = [s.name for s in subjects]
    if len(set(names)) != len(names):
        raise ValueError("each subject once")
    level, explanation = _level(subjects)
    if level <= Level.KHA:
        lifted = [(name, _level(subjects, exempt=name)[0]) for name in names]
        deciders = [name for name, potential in lifted if potential >= level + 2]
        if len(deciders) == 1:
            subject = deciders[0]
            raised = Level(level + 1)
            return Outcome(
                raised,
                Explanation(
                    "C22_ONE_SUBJECT_ADJUSTMENT",
                    f"Chỉ do một môn ({subject}) mà kết quả bị hạ từ hai mức trở lên ({level.vi}), nên được "
                    f"điều chỉnh lên mức liền kề: {raised.vi}",
                    f"one subject alone ({subject}) pulled the result down two levels or more "
                    f"({level.en}), so it is raised to the next level: {raised.en}",
                    (subject,),
                ),
            )
    return Outcome(level, explanation)


# ---------------------------------------------------------------- Circular 22: conduct, promotion, awards


def year_conduct(semester_1: Level, semester_2: Level) -> Outcome:
    """The year's conduct from the two semesters' (DOMAIN.md)."""
    one, two = semester_1, semester_2
    if two == Level.TOT and one >= Level.KHA:
        level = Level.TOT
    elif (
        (two == Level.KHA and one >= Level.DAT)
        or (two == Level.DAT and one == Level.TOT)
        or (two == Level.TOT and one <= Level.DAT)
    ):
        level = Level.KHA
    elif (two == Level.DAT and one <= Level.KHA) or (two == Level.KHA and one == Level.CHUA_DAT):
        level = Level.DAT
    else:
        level = Level.CHUA_DAT
    return Outcome(
        level,
        Explanation(
            "C22_YEAR_CONDUCT",
            f"Rèn luyện học kì I {one.vi}, học kì II {two.vi}: cả năm {level.vi}",
            f"conduct semester I {one.en}, semester II {two.en}: year {level.en}",
        ),
    )


class Promotion(StrEnum):
    PROMOTED = "PROMOTED"  # lên lớp
    RETEST = "RETEST"  # kiểm tra lại / rèn luyện trong hè
    REPEAT = "REPEAT"  # ở lại lớp (too many absences)


@dataclass(frozen=True)
class PromotionOutcome:
    decision: Promotion
    explanation: Explanation


def promotion(conduct: Level, learning: Level, absent_sessions: int) -> PromotionOutcome:
    """Promoted with year conduct and learning ≥ Đạt and at most 45 sessions absent (excused and
    unexcused together); more absences mean repeating the grade; otherwise summer re-test / re-training."""
    if absent_sessions < 0:
        raise ValueError("absent_sessions cannot be negative")
    if absent_sessions > MAX_ABSENT_SESSIONS:
        return PromotionOutcome(
            Promotion.REPEAT,
            Explanation(
                "C22_ABSENCES",
                f"Nghỉ {absent_sessions} buổi, quá {MAX_ABSENT_SESSIONS} buổi trong năm học",
                f"{absent_sessions} sessions absent, more than {MAX_ABSENT_SESSIONS} in the year",
            ),
        )
    short = [
        what
        for what, level in (("rèn luyện / conduct", conduct), ("học tập / learning", learning))
        if level < Level.DAT
    ]
    if short:
        return PromotionOutcome(
            Promotion.RETEST,
            Explanation(
                "C22_RETEST",
                "Chưa đạt: "
                + ", ".join(s.split(" / ")[0] for s in short)
                + "; kiểm tra lại hoặc rèn luyện trong hè",
                "not achieved: "
                + ", ".join(s.split(" / ")[1] for s in short)
                + "; summer re-test or re-training",
            ),
        )
    return PromotionOutcome(
        Promotion.PROMOTED,
        Explanation(
            "C22_PROMOTED",
            f"Rèn luyện và học tập từ Đạt trở lên, nghỉ {absent_sessions} buổi "
            f"(tối đa {MAX_ABSENT_SESSIONS})",
            f"conduct and learning Achieved or better, {absent_sessions} sessions absent (at most "
            f"{MAX_ABSENT_SESSIONS})",
        ),
    )


class Award(StrEnum):
    NONE = "NONE"
    GIOI = "GIOI"  # Học sinh Giỏi
    XUAT_SAC = "XUAT_SAC"  # Học sinh Xuất sắc


def award(conduct: Level, learning: Level, year_scores: Mapping[str, Decimal]) -> tuple[Award, Explanation]:
    """Xuất sắc: conduct Tốt, learning Tốt, at least 6 scored subjects with a year average ≥ 9.0;
    Giỏi: conduct Tốt and learning Tốt."""
    if conduct != Level.TOT or learning != Level.TOT:
        return Award.NONE, Explanation(
            "C22_NO_AWARD",
            "Danh hiệu cần rèn luyện Tốt và học tập Tốt",
            "an award needs conduct and learning both Very good",
        )
    nines = sorted(name for name, score in year_scores.items() if score >= Decimal("9.0"))
    if len(nines) >= MIN_SCORED_SUBJECTS:
        return Award.XUAT_SAC, Explanation(
            "C22_AWARD_XUAT_SAC",
            f"Rèn luyện Tốt, học tập Tốt, {len(nines)} môn có điểm trung bình cả năm từ 9,0",
            f"conduct and learning Very good, {len(nines)} subjects with a year average of 9.0 or above",
            tuple(nines),
        )
    return Award.GIOI, Explanation(
        "C22_AWARD_GIOI",
        f"Rèn luyện Tốt và học tập Tốt; {len(nines)} môn từ 9,0 (cần 6 cho Xuất sắc)",
        f"conduct and learning Very good; {len(nines)} subjects at 9.0 (6 needed for Excellent)",
        tuple(nines),
    )


# ---------------------------------------------------------------- Circular 27: primary


class Rating(StrEnum):
    """Subjects and activities in primary school."""

    T = "T"  # Hoàn thành tốt
    H = "H"  # Hoàn thành
    C = "C"  # Chưa hoàn thành


class Quality(StrEnum):
    """Qualities and competences in primary school."""

    TOT = "TOT"  # Tốt
    DAT = "DAT"  # Đạt
    CAN_CO_GANG = "CAN_CO_GANG"  # Cần cố gắng


class PrimaryResult(StrEnum):
    HOAN_THANH_XUAT_SAC = "HOAN_THANH_XUAT_SAC"
    HOAN_THANH_TOT = "HOAN_THANH_TOT"
    HOAN_THANH = "HOAN_THANH"
    CHUA_HOAN_THANH = "CHUA_HOAN_THANH"


@dataclass(frozen=True)
class PrimaryYear:
    ratings: Mapping[str, Rating]  # subject or activity → end-of-year rating
    qualities: Mapping[str, Quality]  # quality or competence → end-of-year level
    tests: Mapping[str, int] = field(default_factory=dict)  # subject → end-of-year periodic test score


def primary_year_result(year: PrimaryYear) -> tuple[PrimaryResult, Explanation]:
    """Hoàn thành xuất sắc: every subject T, every quality and competence Tốt, every end-of-year test ≥ 9;
    Hoàn thành tốt: the same with tests ≥ 7; Chưa hoàn thành when a subject is C; else Hoàn thành."""
    not_t = sorted(name for name, rating in year.ratings.items() if rating != Rating.T)
    not_tot = sorted(name for name, quality in year.qualities.items() if quality != Quality.TOT)
    failed = sorted(name for name, rating in year.ratings.items() if rating == Rating.C)
    if failed:
        return PrimaryResult.CHUA_HOAN_THANH, Explanation(
            "C27_CHUA_HOAN_THANH",
            "Chưa hoàn thành: " + ", ".join(failed),
            "not completed: " + ", ".join(failed),
            tuple(failed),
        )
    if not not_t and not not_tot:
        below_9 = sorted(name for name, score in year.tests.items() if score < 9)
        if not below_9:
            return PrimaryResult.HOAN_THANH_XUAT_SAC, Explanation(
                "C27_XUAT_SAC",
                "Mọi môn Hoàn thành tốt, phẩm chất và năng lực Tốt, bài kiểm tra cuối năm từ 9 điểm",
                "every subject completed well, qualities and competences Very good, "
                "end-of-year tests 9 or above",
            )
        below_7 = sorted(name for name, score in year.tests.items() if score < 7)
        if not below_7:
            return PrimaryResult.HOAN_THANH_TOT, Explanation(
                "C27_HOAN_THANH_TOT",
                "Mọi môn Hoàn thành tốt, phẩm chất và năng lực Tốt; bài kiểm tra dưới 9: "
                + ", ".join(below_9),
                "every subject completed well, qualities Very good; tests below 9: " + ", ".join(below_9),
                tuple(below_9),
            )
        not_t = below_7
    reasons = not_t + not_tot
    return PrimaryResult.HOAN_THANH, Explanation(
        "C27_HOAN_THANH",
        "Hoàn thành; chưa đạt mức Hoàn thành tốt vì: " + ", ".join(reasons),
        "completed; not completed well because of: " + ", ".join(reasons),
        tuple(reasons),
    )
