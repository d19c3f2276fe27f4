"""Domain errors ↔ gRPC status with ``google.rpc.ErrorInfo`` in ``grpc-status-details-bin``."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from school_common.errors import DomainError

STATUS_DETAILS_KEY = "grpc-status-details-bin"


def status_details(
    code: grpc.StatusCode, reason: str, message: str, domain: str, metadata: dict[str, str] | None = None
) -> bytes:
    info = error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=metadata or {})
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return status.SerializeToString()


async def abort_with_domain_error(context: grpc.aio.ServicerContext, error: DomainError, domain: str) -> None:
    details = status_details(error.code, error.reason, error.message, domain, error.metadata)
    context.set_trailing_metadata(((STATUS_DETAILS_KEY, details),))
    await context.abort(error.code, error.message)


@dataclass(frozen=True)
class RpcError:
    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]


def parse_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> RpcError:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    reason, domain, meta = "", "", {}
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    reason, domain, meta = info.reason, info.domain, dict(info.metadata)
    return RpcError(code=code, message=message or "", reason=reason, domain=domain, metadata=meta)
