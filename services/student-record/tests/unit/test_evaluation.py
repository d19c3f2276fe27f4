"""Golden tables for Circulars 22/2021 and 27/2020, worked out by hand from the rules in DOMAIN.md."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from school_common.errors import InvalidArgument
from student_record.domain.evaluation import (
    Award,
    Level,
    PrimaryResult,
    PrimaryYear,
    Promotion,
    Quality,
    Rating,
    SubjectResult,
    award,
    check_regular_count,
    display,
    learning_result,
    parse_score,
    parse_test_score,
    primary_year_result,
    promotion,
    regular_assessments,
    round1,
    semester_average,
    year_average,
    year_conduct,
)

SCORED = [
    "Toán",
    "Ngữ văn",
    "Tiếng Anh",
    "Lịch sử và Địa lí",
    "Khoa học tự nhiên",
    "Công nghệ",
    "Tin học",
    "GDCD",
]
COMMENTS = ["Giáo dục thể chất", "Nghệ thuật", "Nội dung giáo dục địa phương", "HĐTN, hướng nghiệp"]
VERY_GOOD = ["8.0", "8.5", "9.0", "8.0", "8.2", "8.0", "7.0", "6.5"]  # all ≥ 6.5, exactly six ≥ 8.0


def subjects(scores: list[str], failed_comments: tuple[str, ...] = ()) -> list[SubjectResult]:
    return [SubjectResult(n, D(s)) for n, s in zip(SCORED, scores, strict=True)] + [
        SubjectResult(n, passed=n not in failed_comments) for n in COMMENTS
    ]


# ---------------------------------------------------------------- scores


@pytest.mark.parametrize(
    ("text", "score"), [("8,5", D("8.5")), ("8.5", D("8.5")), ("10", D(10)), ("0", D(0)), (7, D(7))]
)
def test_scores_accept_a_decimal_comma_or_point(text, score) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize("text", ["10.5", "8,55", "-1", "11", "abc", "", "1e1", "08.5", "8.", " ", "NaN"])
def test_bad_scores_are_refused_with_a_reason(text) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_score(text, field="scores[0]")
    assert caught.value.reason == "INVALID_SCORE"
    assert caught.value.metadata["field"] == "scores[0]"


@pytest.mark.parametrize("text", ["7.5", "11", "-1", "x"])
def test_primary_tests_are_integers(text) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_test_score(text)
    assert caught.value.reason == "INVALID_TEST_SCORE"
    assert parse_test_score("0") == 0


def test_rounding_is_half_up_on_decimals_not_floats() -> None:
    assert round(8.25, 1) == 8.2  # what float rounding would do
    assert round1(D("8.25")) == D("8.3")
    assert round1(D("8.249")) == D("8.2")
    assert display(D("8.3")) == "8,3"


@pytest.mark.parametrize(("periods", "count"), [(35, 2), (36, 3), (70, 3), (71, 4), (140, 4)])
def test_regular_assessments_follow_the_periods(periods, count) -> None:
    assert regular_assessments(periods) == count


def test_a_fourth_regular_score_where_three_are_allowed_is_refused() -> None:
    check_regular_count([D(8)] * 3, 70)
    with pytest.raises(InvalidArgument) as caught:
        check_regular_count([D(8)] * 4, 70)
    assert caught.value.reason == "TOO_MANY_REGULAR_SCORES"
    assert caught.value.metadata["allowed"] == "3"


# ---------------------------------------------------------------- averages


@pytest.mark.parametrize(
    ("regular", "mid", "end", "average"),
    [
        (["8", "8", "8"], "9", "8", "8.3"),  # (24 + 18 + 24) / 8 = 8.25 → 8.3 (float rounding: 8.2)
        (["8", "7", "9"], "8", "7", "7.6"),  # 61 / 8 = 7.625
        (["8.5", "7"], "8", "8.5", "8.1"),  # 57 / 7 = 8.142…
        (["10", "10", "10", "10"], "10", "10", "10.0"),
    ],
)
def test_semester_average(regular, mid, end, average) -> None:
    assert semester_average([D(r) for r in regular], D(mid), D(end)) == D(average)


@pytest.mark.parametrize(
    ("one", "two", "year"), [("7.6", "8.4", "8.1"), ("8.2", "8.3", "8.3"), ("6.0", "6.0", "6.0")]
)
def test_year_average_weighs_semester_two_twice(one, two, year) -> None:
    # (7.6 + 16.8) / 3 = 8.133…; (8.2 + 16.6) / 3 = 8.266… → 8.3
    assert year_average(D(one), D(two)) == D(year)


# ---------------------------------------------------------------- learning result


def test_tot() -> None:
    outcome = learning_result(subjects(VERY_GOOD))
    assert outcome.level == Level.TOT
    assert outcome.explanation.rule == "C22_LEARNING_TOT"


def test_kha_names_the_subject_that_kept_it_from_tot() -> None:
    outcome = learning_result(subjects([*VERY_GOOD[:7], "6.4"]))  # GDCD at 6.4 < 6.5, one level down
    assert outcome.level == Level.KHA
    assert outcome.explanation.rule == "C22_LEARNING_KHA"
    assert outcome.explanation.subjects == ("GDCD",)
    assert "GDCD" in outcome.explanation.vi


def test_one_subject_two_levels_down_is_raised_one_level() -> None:
    # Tốt on everything else; Tin học at 3.0 (< 3.5) alone makes it Chưa đạt: three levels → raised to Đạt
    outcome = learning_result(subjects([*VERY_GOOD[:6], "3.0", "6.5"]))
    assert outcome.level == Level.DAT
    assert outcome.explanation.rule == "C22_ONE_SUBJECT_ADJUSTMENT"
    assert outcome.explanation.subjects == ("Tin học",)
    # Tin học at 4.0 (< 5.0, ≥ 3.5) alone makes it Đạt: two levels → raised to Khá
    outcome = learning_result(subjects([*VERY_GOOD[:6], "4.0", "6.5"]))
    assert outcome.level == Level.KHA
    assert outcome.explanation.rule == "C22_ONE_SUBJECT_ADJUSTMENT"


def test_two_weak_subjects_are_not_adjusted() -> None:
    outcome = learning_result(subjects([*VERY_GOOD[:6], "3.0", "3.2"]))
    assert outcome.level == Level.CHUA_DAT
    assert set(outcome.explanation.subjects) == {"Tin học", "GDCD"}


def test_one_level_down_is_not_adjusted() -> None:
    assert learning_result(subjects([*VERY_GOOD[:7], "6.4"])).level == Level.KHA


def test_a_comment_subject_chua_dat() -> None:
    # One comment subject Chưa đạt: at most Đạt by the thresholds; it alone cost two levels (Tốt → Đạt),
    # so the result is raised to Khá.
    outcome = learning_result(subjects(VERY_GOOD, failed_comments=("Nghệ thuật",)))
    assert outcome.level == Level.KHA
    assert outcome.explanation.subjects == ("Nghệ thuật",)
    # Two comment subjects Chưa đạt: Chưa đạt, and no single subject to blame
    outcome = learning_result(subjects(VERY_GOOD, failed_comments=("Nghệ thuật", "Giáo dục thể chất")))
    assert outcome.level == Level.CHUA_DAT
    # One comment subject Chưa đạt with Khá-level scores: Đạt, one level down, not adjusted
    kha_scores = ["7.0", "7.5", "6.5", "6.5", "6.8", "7.0", "5.5", "5.0"]
    assert learning_result(subjects(kha_scores)).level == Level.KHA
    assert learning_result(subjects(kha_scores, failed_comments=("Nghệ thuật",))).level == Level.DAT


def test_dat_needs_six_subjects_at_five() -> None:
    scores = ["5.0", "5.0", "5.0", "5.0", "5.0", "4.9", "4.0", "3.5"]
    outcome = learning_result(subjects(scores))
    assert outcome.level == Level.CHUA_DAT  # only five at 5.0, and no single subject lifts it two levels


# ---------------------------------------------------------------- conduct, promotion, awards


@pytest.mark.parametrize(
    ("one", "two", "year"),
    [
        (Level.TOT, Level.TOT, Level.TOT),
        (Level.KHA, Level.TOT, Level.TOT),
        (Level.DAT, Level.TOT, Level.KHA),
        (Level.CHUA_DAT, Level.TOT, Level.KHA),
        (Level.TOT, Level.KHA, Level.KHA),
        (Level.DAT, Level.KHA, Level.KHA),
        (Level.CHUA_DAT, Level.KHA, Level.DAT),
        (Level.TOT, Level.DAT, Level.KHA),
        (Level.KHA, Level.DAT, Level.DAT),
        (Level.CHUA_DAT, Level.DAT, Level.DAT),
        (Level.TOT, Level.CHUA_DAT, Level.CHUA_DAT),
    ],
)
def test_year_conduct(one, two, year) -> None:
    assert year_conduct(one, two).level == year


def test_promotion_counts_45_absences_as_the_limit() -> None:
    assert promotion(Level.DAT, Level.DAT, 45).decision == Promotion.PROMOTED
    outcome = promotion(Level.TOT, Level.TOT, 46)
    assert outcome.decision == Promotion.REPEAT
    assert outcome.explanation.rule == "C22_ABSENCES"
    assert "46" in outcome.explanation.vi
    assert promotion(Level.DAT, Level.CHUA_DAT, 0).decision == Promotion.RETEST
    assert promotion(Level.CHUA_DAT, Level.TOT, 3).decision == Promotion.RETEST


def test_awards() -> None:
    six_nines = {n: D("9.0") for n in SCORED[:6]} | {n: D("8.9") for n in SCORED[6:]}
    assert award(Level.TOT, Level.TOT, six_nines)[0] == Award.XUAT_SAC
    five_nines = dict(six_nines) | {SCORED[0]: D("8.9")}
    assert award(Level.TOT, Level.TOT, five_nines)[0] == Award.GIOI
    assert award(Level.KHA, Level.TOT, six_nines)[0] == Award.NONE


# ---------------------------------------------------------------- primary (Circular 27)

QUALITIES = {q: Quality.TOT for q in ("yêu nước", "nhân ái", "chăm chỉ", "trung thực", "trách nhiệm")}


@pytest.mark.parametrize(
    ("ratings", "qualities", "tests", "result"),
    [
        (
            {"Toán": Rating.T, "Tiếng Việt": Rating.T},
            QUALITIES,
            {"Toán": 9, "Tiếng Việt": 10},
            PrimaryResult.HOAN_THANH_XUAT_SAC,
        ),
        (
            {"Toán": Rating.T, "Tiếng Việt": Rating.T},
            QUALITIES,
            {"Toán": 8, "Tiếng Việt": 10},
            PrimaryResult.HOAN_THANH_TOT,
        ),
        (
            {"Toán": Rating.T, "Tiếng Việt": Rating.T},
            QUALITIES,
            {"Toán": 6, "Tiếng Việt": 10},
            PrimaryResult.HOAN_THANH,
        ),
        (
            {"Toán": Rating.T, "Tiếng Việt": Rating.H},
            QUALITIES,
            {"Toán": 10, "Tiếng Việt": 10},
            PrimaryResult.HOAN_THANH,
        ),
        (
            {"Toán": Rating.T, "Tiếng Việt": Rating.T},
            QUALITIES | {"chăm chỉ": Quality.DAT},
            {"Toán": 10},
            PrimaryResult.HOAN_THANH,
        ),
        (
            {"Toán": Rating.C, "Tiếng Việt": Rating.T},
            QUALITIES,
            {"Toán": 4, "Tiếng Việt": 10},
            PrimaryResult.CHUA_HOAN_THANH,
        ),
    ],
)
def test_primary_year_result(ratings, qualities, tests, result) -> None:
    outcome, explanation = primary_year_result(PrimaryYear(ratings, qualities, tests))
    assert outcome == result
    assert " / " not in explanation.vi
    assert explanation.text().count(" / ") == 1


# ---------------------------------------------------------------- Circular 19/2025 (discipline)


def test_measures_by_school_level() -> None:
    from student_record.domain import discipline

    assert discipline.measures_for_grade(5) == ("REMINDER", "APOLOGY")
    assert discipline.measures_for_grade(6) == ("REMINDER", "CRITICISM", "SELF_REVIEW")
    assert "SUSPENSION" not in discipline.measures_for_grade(12)
    with pytest.raises(InvalidArgument) as caught:
        discipline.check_measure("CRITICISM", 3)
    assert caught.value.reason == "MEASURE_NOT_ALLOWED_AT_LEVEL"
    assert "nhắc nhở" in caught.value.message
