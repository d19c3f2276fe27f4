"""The simulated population register: citizens loaded from a JSON file, and the matching rules."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from simulators.citizen_registry.ids import describe, validate_personal_id


class Result(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class Citizen:
    personal_id: str
    full_name: str
    date_of_birth: date


@dataclass(frozen=True, slots=True)
class Verification:
    result: Result
    full_name: bool
    date_of_birth: bool


def name_key(name: str) -> str:
    """The form two names are compared in: NFC, case-folded, whitespace collapsed.

    Diacritics are kept: "Hòa" and "Hoa" are different names. NFC is applied again after case folding
    because folding may decompose a character.
    """
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return " ".join(folded.split())


class Registry:
    def __init__(self, citizens: list[Citizen]) -> None:
        self._by_id: dict[str, tuple[str, date]] = {}
        for index, citizen in enumerate(citizens, start=1):
            if citizen.personal_id in self._by_id:
                raise ValueError(f"citizen entry {index}: duplicate personal id")
            self._by_id[citizen.personal_id] = (name_key(citizen.full_name), citizen.date_of_birth)

    def __len__(self) -> int:
        return len(self._by_id)

    def verify(self, personal_id: str, full_name: str, date_of_birth: date) -> Verification:
        record = self._by_id.get(personal_id)
        if record is None:
            return Verification(Result.NOT_FOUND, full_name=False, date_of_birth=False)
        name_ok = record[0] == name_key(full_name)
        dob_ok = record[1] == date_of_birth
        return Verification(Result.MATCH if name_ok and dob_ok else Result.MISMATCH, name_ok, dob_ok)


def default_citizens_file() -> Path:
    return Path(str(resources.files("simulators.citizen_registry").joinpath("citizens.json")))


def load_citizens(path: Path | None = None) -> list[Citizen]:
    """Citizens from ``path`` (the bundled seed by default), each checked against the number rules so a
    bad seed fails at start-up instead of answering nonsense. Errors name the entry's position, never
    its content."""
    raw: dict[str, Any] = json.loads((path or default_citizens_file()).read_text(encoding="utf-8"))
    citizens: list[Citizen] = []
    for index, entry in enumerate(raw["citizens"], start=1):
        pid = entry["personal_id"]
        dob = date.fromisoformat(entry["date_of_birth"])
        name = entry["full_name"]
        reasons = validate_personal_id(pid, dob)
        if reasons:
            raise ValueError(f"citizen entry {index}: {', '.join(reasons)}")
        if "sex" in entry and describe(pid).sex != entry["sex"]:
            raise ValueError(f"citizen entry {index}: sex does not match the century/gender digit")
        if not name.strip() or unicodedata.normalize("NFC", name) != name:
            raise ValueError(f"citizen entry {index}: full_name must be non-empty NFC text")
        citizens.append(Citizen(personal_id=pid, full_name=name, date_of_birth=dob))
    return citizens
