"""`GET /api/stats`: per site, raw updates against deliveries (noise ratio), interruptions and urgent
latency; per sender, the declared-urgent rate (and whether Siteline now ignores that hint)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from siteline.api.auth import require_token
from siteline.api.updates import triage_service
from triage.service import TriageService

router = APIRouter()


@router.get("/stats")
def get_stats(
    days: float = Query(30, gt=0, le=366, description="look back this many days"),
    _caller: str = Depends(require_token),
    service: TriageService = Depends(triage_service),
) -> dict[str, Any]:
    return service.stats(days=days).to_json()
