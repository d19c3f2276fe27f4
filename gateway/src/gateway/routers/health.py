"""Probes: no authentication, no personal data, not rate limited, not in the OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, Response

from gateway import schemas
from gateway.deps import BackendsDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(backends: BackendsDep, response: Response) -> schemas.Readiness:
    """Readiness: every routed backend answers its gRPC ``readiness`` health check."""
    checks = await backends.readiness()
    ready = all(state != "failing" for state in checks.values())
    if not ready:
        response.status_code = 503
    return schemas.Readiness(status="ready" if ready else "not_ready", checks=checks)
