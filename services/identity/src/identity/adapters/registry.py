"""The national population database's citizen verification API (contract: simulators/README.md).

Only a base URL and a key are known here; production points them at the real endpoint. The adapter
sends what identity already holds and learns, per field, whether it matches.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

log = logging.getLogger(__name__)

Outcome = Literal["MATCH", "MISMATCH", "NOT_FOUND"]


@dataclass(frozen=True)
class RegistryAnswer:
    result: Outcome
    checks: dict[str, bool]
    checked_at: datetime


class RegistryUnavailable(Exception):
    """The register could not answer now (down, overloaded, timed out): try again later."""


class RegistryRefused(Exception):
    """The register refused the request as invalid; ``reason`` is its machine-readable reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PopulationRegistry:
    def __init__(self, base_url: str, api_key: str, timeout_s: float, http: httpx.AsyncClient | None = None):
        self._url = base_url.rstrip("/") + "/api/v1/citizens/verify"
        self._key = api_key
        self._http = http or httpx.AsyncClient(timeout=timeout_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, personal_id: str, full_name: str, date_of_birth: str) -> RegistryAnswer:
        request_id = str(uuid.uuid4())
        try:
            response = await self._http.post(
                self._url,
                json={"personal_id": personal_id, "full_name": full_name, "date_of_birth": date_of_birth},
                headers={"X-Api-Key": self._key, "X-Request-Id": request_id},
            )
        except httpx.HTTPError as exc:
            log.warning("population registry unreachable", extra={"error": type(exc).__name__})
            raise RegistryUnavailable(type(exc).__name__) from exc
        if response.status_code == 200:
            body = response.json()
            checks = body.get("checks") or {}
            return RegistryAnswer(
                result=body["result"],
                checks={
                    "full_name": bool(checks.get("full_name")),
                    "date_of_birth": bool(checks.get("date_of_birth")),
                },
                checked_at=_parse_time(body.get("checked_at")),
            )
        reason = _reason(response)
        if response.status_code in (429, 502, 503, 504) or response.status_code >= 500:
            log.warning(
                "population registry unavailable", extra={"status": response.status_code, "reason": reason}
            )
            raise RegistryUnavailable(reason)
        if response.status_code == 422:
            raise RegistryRefused(reason)
        # 400/401/415: our request or our credential is wrong; an operator must act, retrying later is right.
        log.error(
            "population registry refused our call", extra={"status": response.status_code, "reason": reason}
        )
        raise RegistryUnavailable(reason)


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", f"HTTP_{response.status_code}"))
    except ValueError:
        return f"HTTP_{response.status_code}"


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)
