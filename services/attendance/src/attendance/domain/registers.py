"""What a register submission changes. Pure rules, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from attendance.domain.calendar import absence_level

ABSENT = ("ABSENT_EXCUSED", "ABSENT_UNEXCUSED")

__all__ = ["ABSENT", "MarkPlan", "absence_level", "is_new_absence", "plan_marks"]


@dataclass
class MarkPlan:
    #: student → (status, note) to write: only marks that differ from what is recorded.
    writes: dict[uuid.UUID, tuple[str, str]] = field(default_factory=dict)
    #: (student, previous status or "", status) for every status that changes.
    status_changes: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    #: (student, previous, status) changed after the cut-off: kept with the reason.
    late_changes: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)

    @property
    def needs_reason(self) -> bool:
        return bool(self.late_changes)


def plan_marks(
    wanted: Mapping[uuid.UUID, tuple[str, str]],
    recorded: Mapping[uuid.UUID, tuple[str, str]],
    on_leave: set[uuid.UUID],
    *,
    after_cutoff: bool,
) -> MarkPlan:
    """Compare a submission with the register.

    - A mark equal to the recorded one (status and note) writes nothing.
    - An absence of a student on approved leave is excused: the leave was the school's answer.
    - After the cut-off, changing a recorded status needs a reason and is kept in the trail; a first mark
      (the register was late) and a note do not.
    """
    plan = MarkPlan()
    for student_id, (status, note) in wanted.items():
        if status == "ABSENT_UNEXCUSED" and student_id in on_leave:
            status = "ABSENT_EXCUSED"
        previous = recorded.get(student_id)
        if previous == (status, note):
            continue
        plan.writes[student_id] = (status, note)
        previous_status = previous[0] if previous else ""
        if previous_status != status:
            plan.status_changes.append((student_id, previous_status, status))
            if after_cutoff and previous_status:
                plan.late_changes.append((student_id, previous_status, status))
    return plan


def is_new_absence(previous: str, status: str) -> bool:
    """A guardian hears of an absence once, and again only if it changes between excused and unexcused."""
    return status in ABSENT and previous != status
