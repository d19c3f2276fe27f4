"""The 2018 general education curriculum (Circular 32/2018/TT-BGDĐT, as amended by Circular 13/2022) as
far as the gradebook needs it: which subjects a grade studies, how they are evaluated and how many periods
a year they have — which fixes the number of regular assessments (Circular 22/2021, Art. 7).

Periods are those of the curriculum's plan for 35 weeks *(verify per amendment)*. Upper secondary
students study the compulsory subjects and four electives chosen by the school's combinations; the
catalogue lists them all and the gradebook accepts any of them for grades 10-12.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from student_record.domain.evaluation import regular_assessments


class Evaluation(StrEnum):
    #: Circular 22: a 10-point score (regular, mid-term, end-term) and averages.
    SCORED = "SCORED"
    #: Circular 22: comment only, Đạt / Chưa đạt.
    COMMENT = "COMMENT"
    #: Circular 27 (primary): Hoàn thành tốt / Hoàn thành / Chưa hoàn thành, with periodic tests for some.
    RATED = "RATED"


@dataclass(frozen=True)
class Subject:
    code: str
    name: str  # Vietnamese, as printed on the transcript
    name_en: str
    evaluation: Evaluation
    periods: int  # per year
    #: primary: the subject has periodic tests (end of semester I and of the year).
    tested: bool = False
    #: primary grades 4-5: also mid-semester tests (Vietnamese and mathematics).
    mid_tested: bool = False
    elective: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def regular_count(self) -> int:
        """Regular assessments a semester (secondary); 0 for primary subjects."""
        if self.evaluation is Evaluation.RATED:
            return 0
        return regular_assessments(self.periods)


def _s(code: str, name: str, en: str, ev: Evaluation, periods: int, **kw: object) -> Subject:
    return Subject(code, name, en, ev, periods, **kw)  # type: ignore[arg-type]


S, C, R = Evaluation.SCORED, Evaluation.COMMENT, Evaluation.RATED


def _primary(grade: int) -> tuple[Subject, ...]:
    vietnamese = {1: 420, 2: 350}.get(grade, 245)
    maths = 105 if grade == 1 else 175
    subjects = [
        _s("TIENG_VIET", "Tiếng Việt", "Vietnamese", R, vietnamese, tested=True, mid_tested=grade >= 4),
        _s(
            "TOAN", "Toán", "Mathematics", R, maths, tested=True, mid_tested=grade >= 4, aliases=("Toán học",)
        ),
        _s("DAO_DUC", "Đạo đức", "Ethics", R, 35),
        _s("GDTC", "Giáo dục thể chất", "Physical education", R, 70, aliases=("Thể dục",)),
        _s("AM_NHAC", "Âm nhạc", "Music", R, 35),
        _s("MI_THUAT", "Mĩ thuật", "Fine arts", R, 35, aliases=("Mỹ thuật",)),
        _s("HDTN", "Hoạt động trải nghiệm", "Experiential activities", R, 105),
    ]
    if grade <= 3:
        subjects.append(_s("TNXH", "Tự nhiên và Xã hội", "Nature and society", R, 70))
    if grade >= 3:
        subjects += [
            _s(
                "NGOAI_NGU_1",
                "Ngoại ngữ 1",
                "Foreign language 1",
                R,
                140,
                tested=True,
                aliases=("Tiếng Anh",),
            ),
            _s("TIN_HOC_CONG_NGHE", "Tin học và Công nghệ", "Informatics and technology", R, 70, tested=True),
        ]
    if grade >= 4:
        subjects += [
            _s("LICH_SU_DIA_LI", "Lịch sử và Địa lí", "History and geography", R, 70, tested=True),
            _s("KHOA_HOC", "Khoa học", "Science", R, 70, tested=True),
        ]
    return tuple(subjects)


def _lower_secondary(grade: int) -> tuple[Subject, ...]:
    return (
        _s("NGU_VAN", "Ngữ văn", "Literature", S, 140, aliases=("Văn",)),
        _s("TOAN", "Toán", "Mathematics", S, 140, aliases=("Toán học",)),
        _s("NGOAI_NGU_1", "Ngoại ngữ 1", "Foreign language 1", S, 105, aliases=("Tiếng Anh",)),
        _s("GDCD", "Giáo dục công dân", "Civic education", S, 35),
        _s("LICH_SU_DIA_LI", "Lịch sử và Địa lí", "History and geography", S, 105),
        _s("KHTN", "Khoa học tự nhiên", "Natural science", S, 140),
        _s("CONG_NGHE", "Công nghệ", "Technology", S, 35 if grade <= 7 else 52),
        _s("TIN_HOC", "Tin học", "Informatics", S, 35),
        _s("GDTC", "Giáo dục thể chất", "Physical education", C, 70, aliases=("Thể dục",)),
        _s("AM_NHAC", "Âm nhạc", "Music", C, 35),
        _s("MI_THUAT", "Mĩ thuật", "Fine arts", C, 35, aliases=("Mỹ thuật",)),
        _s("HDTN_HN", "Hoạt động trải nghiệm, hướng nghiệp", "Experiential and career activities", C, 105),
        _s("GDDP", "Nội dung giáo dục của địa phương", "Local education content", C, 35),
    )


def _upper_secondary() -> tuple[Subject, ...]:
    return (
        _s("NGU_VAN", "Ngữ văn", "Literature", S, 105, aliases=("Văn",)),
        _s("TOAN", "Toán", "Mathematics", S, 105, aliases=("Toán học",)),
        _s("NGOAI_NGU_1", "Ngoại ngữ 1", "Foreign language 1", S, 105, aliases=("Tiếng Anh",)),
        _s("LICH_SU", "Lịch sử", "History", S, 52),
        _s("GDQP_AN", "Giáo dục quốc phòng và an ninh", "Defence and security education", S, 35),
        _s("GDTC", "Giáo dục thể chất", "Physical education", C, 70, aliases=("Thể dục",)),
        _s("HDTN_HN", "Hoạt động trải nghiệm, hướng nghiệp", "Experiential and career activities", C, 105),
        _s("GDDP", "Nội dung giáo dục của địa phương", "Local education content", C, 35),
        _s("DIA_LI", "Địa lí", "Geography", S, 70, elective=True),
        _s("GDKT_PL", "Giáo dục kinh tế và pháp luật", "Economics and law", S, 70, elective=True),
        _s("VAT_LI", "Vật lí", "Physics", S, 70, elective=True, aliases=("Vật lý",)),
        _s("HOA_HOC", "Hóa học", "Chemistry", S, 70, elective=True, aliases=("Hoá học",)),
        _s("SINH_HOC", "Sinh học", "Biology", S, 70, elective=True),
        _s("CONG_NGHE", "Công nghệ", "Technology", S, 70, elective=True),
        _s("TIN_HOC", "Tin học", "Informatics", S, 70, elective=True),
        _s("AM_NHAC", "Âm nhạc", "Music", C, 70, elective=True),
        _s("MI_THUAT", "Mĩ thuật", "Fine arts", C, 70, elective=True, aliases=("Mỹ thuật",)),
    )


CURRICULUM: dict[int, tuple[Subject, ...]] = {
    **{g: _primary(g) for g in range(1, 6)},
    **{g: _lower_secondary(g) for g in range(6, 10)},
    **{g: _upper_secondary() for g in range(10, 13)},
}

#: Primary qualities and competences (Circular 27, Art. 6-7) rated Tốt / Đạt / Cần cố gắng.
PRIMARY_QUALITIES: dict[str, str] = {
    "YEU_NUOC": "Yêu nước",
    "NHAN_AI": "Nhân ái",
    "CHAM_CHI": "Chăm chỉ",
    "TRUNG_THUC": "Trung thực",
    "TRACH_NHIEM": "Trách nhiệm",
}
PRIMARY_COMPETENCES: dict[str, str] = {
    "TU_CHU_TU_HOC": "Tự chủ và tự học",
    "GIAO_TIEP_HOP_TAC": "Giao tiếp và hợp tác",
    "GQVD_SANG_TAO": "Giải quyết vấn đề và sáng tạo",
    "NGON_NGU": "Ngôn ngữ",
    "TINH_TOAN": "Tính toán",
    "KHOA_HOC": "Khoa học",
    "CONG_NGHE": "Công nghệ",
    "TIN_HOC": "Tin học",
    "THAM_MI": "Thẩm mĩ",
    "THE_CHAT": "Thể chất",
}


def subjects_of(grade: int) -> tuple[Subject, ...]:
    return CURRICULUM.get(grade, ())


def subject(grade: int, code: str) -> Subject | None:
    return next((s for s in subjects_of(grade) if s.code == code), None)


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def match(grade: int, text: str) -> Subject | None:
    """The subject a free-text name designates ("Toán", "toan", "Toán học", "TOAN"), as staff
    spreadsheets write teaching assignments."""
    wanted = _key(text)
    for candidate in subjects_of(grade):
        names = (candidate.code, candidate.name, *candidate.aliases)
        if any(_key(name) == wanted for name in names) or _key(candidate.code.replace("_", " ")) == wanted:
            return candidate
    return None
