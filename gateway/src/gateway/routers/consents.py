"""Purposes of processing a student's data and the consents recorded for them (identity service).

Routes are on a student: identity (which holds the guardian links) decides who may see or give consent.
"""

from __future__ import annotations

from fastapi import APIRouter
from school.identity.v1 import identity_pb2 as idn

from gateway import mappers, schemas
from gateway.deps import BackendsDep, Caller, IdempotencyKey, PurposeCode, StudentId
from gateway.problems import problem_docs

router = APIRouter(prefix="/v1", tags=["consents"])


@router.get(
    "/consent-purposes",
    operation_id="listConsentPurposes",
    summary="Các mục đích xử lý dữ liệu / Purposes of processing",
    description="Các mục đích xử lý dữ liệu học sinh và cơ sở pháp lý (theo luật, hoặc cần sự đồng ý) theo "
    "Luật Bảo vệ dữ liệu cá nhân. / The purposes of processing students' data and their legal basis (law, or "
    "consent) under the Personal Data Protection Law.",
    responses=problem_docs(403),
)
async def list_purposes(caller: Caller, backends: BackendsDep) -> schemas.PurposeList:
    result: idn.ListPurposesResponse = await backends.call(
        backends.identity.ListPurposes, idn.ListPurposesRequest(), caller
    )
    return schemas.PurposeList(items=[mappers.purpose(p) for p in result.purposes])


@router.get(
    "/students/{student_id}/consents",
    operation_id="listConsents",
    summary="Sự đồng ý của một học sinh / A student's consents",
    description="Các sự đồng ý đã ghi nhận cho học sinh và, với từng mục đích, việc xử lý có được phép "
    "không. / The consents recorded for the student and, per purpose, whether processing may go ahead.",
    responses=problem_docs(403, 404),
)
async def list_consents(
    caller: Caller, student_id: StudentId, backends: BackendsDep
) -> schemas.StudentConsents:
    result: idn.ListConsentsResponse = await backends.call(
        backends.identity.ListConsents, idn.ListConsentsRequest(student_id=student_id), caller
    )
    return mappers.student_consents(result)


@router.post(
    "/students/{student_id}/consents",
    status_code=201,
    operation_id="grantConsent",
    summary="Đồng ý / Grant consent",
    description="Ghi nhận sự đồng ý cho một mục đích dựa trên sự đồng ý, của phụ huynh hoặc (từ đủ 7 tuổi) "
    "của chính học sinh. / Records consent for a consent-based purpose, by a guardian or (from age 7) by "
    "the child.",
    responses=problem_docs(404, 403, 409, 413, 415, 422),
)
async def grant_consent(
    caller: Caller,
    student_id: StudentId,
    key: IdempotencyKey,
    body: schemas.ConsentCreate,
    backends: BackendsDep,
) -> schemas.Consent:
    result: idn.GrantConsentResponse = await backends.call(
        backends.identity.GrantConsent,
        idn.GrantConsentRequest(student_id=student_id, purpose=body.purpose, request_id=key),
        caller,
    )
    return mappers.consent(result.consent)


@router.delete(
    "/students/{student_id}/consents/{purpose}",
    operation_id="withdrawConsent",
    summary="Rút lại sự đồng ý / Withdraw consent",
    description="Rút lại sự đồng ý; có hiệu lực ngay. Trả về sự đồng ý đã rút. / Withdraws consent, "
    "effective at once. Answers with the withdrawn consent.",
    responses=problem_docs(403, 404, 409, 422),
)
async def withdraw_consent(
    caller: Caller, student_id: StudentId, purpose: PurposeCode, backends: BackendsDep
) -> schemas.Consent:
    result: idn.WithdrawConsentResponse = await backends.call(
        backends.identity.WithdrawConsent,
        idn.WithdrawConsentRequest(student_id=student_id, purpose=purpose),
        caller,
    )
    return mappers.consent(result.consent)
