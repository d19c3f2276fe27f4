"""The partner API of gate check-in terminals (attendance service): a school's RFID card readers and
face-recognition terminals send their taps, live or as an offline batch with their original times.

A terminal calls with its own access token: a school admin registers it (``registerGateDevice``), which
creates an OAuth client for it in the tenant's realm and answers its secret once, with the realm's token
endpoint. The terminal gets tokens there with the client-credentials grant; they are ordinary tenant
tokens (issuer the tenant's realm, audience ``school-api``), so the gateway verifies them as any other and
forwards. Attendance alone decides that the caller is an enabled device (only a device's own credentials
may record check-ins) and of which school, maps each credential to a student, and merges repeats: a tap
sent twice (same ``tap_id``) or a second tap of the same session changes nothing, so a terminal retries a
batch as it is and needs no ``Idempotency-Key``.

A batch holds up to 5,000 taps (a day of an offline terminal), larger than the gateway's usual 1 MiB body:
the body guard lets this route take :data:`CHECK_INS_MAX_BYTES`.
"""

from __future__ import annotations

from fastapi import APIRouter
from school.attendance.v1 import attendance_pb2 as att

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller
from gateway.problems import problem_docs
from gateway.uploads import MIB

router = APIRouter(prefix="/v1/partner", tags=["partners"])

CHECK_INS_PATH = "/v1/partner/gate/check-ins"
#: 5,000 taps of the longest ids, credentials and times are about 1.1 MB of compact JSON; pretty-printed
#: or with long fractions of seconds, more. The proto message stays well under gRPC's 4 MiB.
CHECK_INS_MAX_BYTES = 4 * MIB
#: JSON routes whose bodies may exceed the usual limit, and theirs, for the body guard.
LARGE_JSON_ROUTES = {CHECK_INS_PATH: CHECK_INS_MAX_BYTES}
#: A full batch is written in one go by attendance: more than the usual deadline may be needed.
CHECK_INS_TIMEOUT_S = 30.0


@router.post(
    "/gate/check-ins",
    operation_id="recordCheckIns",
    summary="Thiết bị gửi lượt điểm danh ở cổng / A gate device sends its check-ins",
    description="Dành cho thiết bị điểm danh ở cổng trường, gọi bằng mã truy cập của chính thiết bị: khi "
    "đăng ký thiết bị (`registerGateDevice`) nhà trường nhận `client_id`, `client_secret` (một lần) và "
    "`token_endpoint` của realm đơn vị; thiết bị lấy mã bằng OAuth 2.0 client credentials "
    "(`grant_type=client_credentials`) tại `token_endpoint` rồi gửi `Authorization: Bearer <mã>`. Mỗi yêu "
    "cầu 1–5.000 lượt đọc (gửi ngay, hoặc một lô khi có mạng lại, với thời điểm gốc; tối đa 4 MiB). Kết "
    "quả từng lượt theo thứ tự gửi: `checked_in`, `merged` (quẹt lại hoặc gửi lại cùng `tap_id`), "
    "`unknown_credential`, `other_school`, `outside_school_time`. Gửi lại cả lô không ghi hai lần, nên "
    "không cần `Idempotency-Key`; thiết bị đã tắt hoặc mã không phải của thiết bị: 403. / For a school's "
    "gate check-in terminals, called with the device's own access token: registering the device "
    "(`registerGateDevice`) gives the school its `client_id`, `client_secret` (once) and the tenant realm's "
    "`token_endpoint`; the device gets tokens there with OAuth 2.0 client credentials "
    "(`grant_type=client_credentials`) and sends `Authorization: Bearer <token>`. 1 to 5,000 reads a "
    "request (live, or a batch once the network is back, with their original times; at most 4 MiB). Each "
    "read's outcome, in the order sent: `checked_in`, `merged` (a repeat, or the same `tap_id` sent again), "
    "`unknown_credential`, `other_school`, `outside_school_time`. Sending a batch again records nothing "
    "twice, so it takes no `Idempotency-Key`; a disabled device, or a token that is not a device's: 403. "
    "Guide: `docs/partner-api.md`.",
    responses=problem_docs(403, 413, 415, 422),
)
async def record_check_ins(
    caller: Caller, body: schemas.CheckInBatch, backends: BackendsDep
) -> schemas.CheckInResults:
    result: att.RecordCheckInsResponse = await backends.call(
        backends.attendance.RecordCheckIns,
        mappers.record_check_ins(body),
        caller,
        field_names=mappers.rest_fields(tap_time="tapped_at"),
        timeout_s=CHECK_INS_TIMEOUT_S,
    )
    return mappers.check_in_results(result)
