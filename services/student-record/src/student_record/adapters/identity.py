"""identity as student-record uses it: the caller's access scope, and the registration of guardians.

Only identity holds a personal identification number. A guardian's number and date of birth pass through
here on their way to ``RegisterPerson`` and are not kept, logged or echoed back: refusals carry identity's
reason and the field at fault, with messages of our own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
from school.identity.v1 import identity_pb2
from school_common.access import IDENTITY_UNAVAILABLE, caller_refusal, identity_scope_fetcher
from school_common.context import Principal
from school_common.errors import (
    DomainError,
    Internal,
    InvalidArgument,
    Unavailable,
    bilingual,
)
from school_common.grpc.client import auth_metadata
from school_common.grpc.status import parse_rpc_error
from school_common.ids import parse_uuid

#: The fields of a person that identity may name in a refusal.
PERSON_FIELDS = frozenset({"personal_id", "full_name", "date_of_birth"})

_REFUSALS: dict[str, tuple[str, str, str]] = {
    # reason: (field when identity names none, Vietnamese, English)
    "INVALID_PERSONAL_ID_FORMAT": (
        "personal_id",
        "Số định danh cá nhân phải gồm 12 chữ số",
        "the personal identification number must be 12 digits",
    ),
    "UNKNOWN_PROVINCE_CODE": (
        "personal_id",
        "Mã tỉnh trong số định danh cá nhân không tồn tại",
        "the province code of the personal identification number does not exist",
    ),
    "CENTURY_MISMATCH": (
        "personal_id",
        "Mã thế kỷ trong số định danh cá nhân không khớp với ngày sinh",
        "the century digit of the personal identification number does not match the date of birth",
    ),
    "BIRTH_YEAR_MISMATCH": (
        "personal_id",
        "Năm sinh trong số định danh cá nhân không khớp với ngày sinh",
        "the birth year in the personal identification number does not match the date of birth",
    ),
    "INVALID_DATE_OF_BIRTH": (
        "date_of_birth",
        "Ngày sinh có dạng YYYY-MM-DD và là một ngày có thật",
        "date of birth must be a real date written YYYY-MM-DD",
    ),
    "INVALID_FULL_NAME": (
        "full_name",
        "Họ tên không được để trống, tối đa 150 ký tự",
        "full name must be non-empty, at most 150 characters",
    ),
}


@dataclass(frozen=True)
class PersonToRegister:
    """A guardian as the school declared them. Nothing of it appears in a repr (logs, tracebacks)."""

    personal_id: str = field(repr=False)
    full_name: str = field(repr=False)
    date_of_birth: str = field(repr=False)


class PersonRegistry(Protocol):
    async def register_person(self, principal: Principal, person: PersonToRegister) -> uuid.UUID:
        """The pseudonymous person id identity issues for ``person`` (the same number, the same id).

        Raises ``InvalidArgument`` with identity's reason and ``metadata["field"]`` one of
        :data:`PERSON_FIELDS` when identity refuses the person, ``Unavailable(IDENTITY_UNAVAILABLE)``
        when identity cannot answer, and passes identity's ``PermissionDenied``/``Unauthenticated`` on.
        """
        ...


def identity_unavailable() -> Unavailable:
    """As school_common.access.identity_unavailable, saying that nothing was written."""
    return Unavailable(
        IDENTITY_UNAVAILABLE,
        bilingual(
            "Dịch vụ định danh tạm thời không phản hồi, chưa có gì được ghi; vui lòng thử lại",
            "the identity service is not answering; nothing was written, please retry",
        ),
    )


def registration_error(error: grpc.RpcError) -> DomainError:
    parsed = parse_rpc_error(error)
    if parsed.code == grpc.StatusCode.INVALID_ARGUMENT:
        default_field, vi, en = _REFUSALS.get(
            parsed.reason,
            (
                "personal_id",
                "Thông tin định danh của người giám hộ không hợp lệ",
                "the guardian's identification data was refused",
            ),
        )
        named = parsed.metadata.get("field", "")
        return InvalidArgument(
            parsed.reason or "INVALID_ARGUMENT",
            bilingual(vi, en),
            {"field": named if named in PERSON_FIELDS else default_field},
        )
    return caller_refusal(parsed.code, parsed.reason, parsed.message) or identity_unavailable()


class IdentityClient:
    """identity's gRPC API, called with the caller's own token: identity decides whose scope it is and
    whether the caller may register persons."""

    def __init__(self, stub: Any, timeout_s: float = 5.0) -> None:
        self._stub = stub
        self._timeout_s = timeout_s
        self._fetch_scope = identity_scope_fetcher(stub, timeout_s)

    async def access_scope(self, principal: Principal) -> Any:
        """``GetAccessScope`` for :class:`school_common.access.ScopeResolver`, failures as domain errors."""
        return await self._fetch_scope(principal)

    async def register_person(self, principal: Principal, person: PersonToRegister) -> uuid.UUID:
        request = identity_pb2.RegisterPersonRequest(
            personal_id=person.personal_id, full_name=person.full_name, date_of_birth=person.date_of_birth
        )
        try:
            response = await self._stub.RegisterPerson(
                request, metadata=auth_metadata(principal.token), timeout=self._timeout_s
            )
        except grpc.RpcError as exc:
            raise registration_error(exc) from None
        person_id = parse_uuid(response.person_id)
        if person_id is None:
            raise Internal(
                "IDENTITY_BAD_RESPONSE",
                bilingual("Lỗi hệ thống, vui lòng thử lại sau", "internal error, please retry later"),
            )
        return person_id
