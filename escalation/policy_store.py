"""Where the routing policy in force comes from: the newest stored version, else the configured file.

Versions are append-only rows, so an escalation can always say which policy it started with.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.settings import Settings
from escalation.models import PolicyVersionRow
from escalation.policy import DEFAULT_POLICY_PATH, PolicyError, RoutingPolicy, load_policy_file, parse_policy


def store_policy(
    session: Session, *, routing: dict[str, Any], source: str, by: str, now: datetime
) -> tuple[int, RoutingPolicy]:
    """Validate and store a new version (PolicyError names the bad field); returns (version, policy)."""
    policy = parse_policy(routing)
    row = PolicyVersionRow(created_at=now, source=source, created_by=by, routing=policy.as_json())
    session.add(row)
    session.flush()
    audit.record(
        session,
        now=now,
        actor=by,
        action="escalation.policy",
        subject=f"policy v{row.id}",
        detail={"source": source, "chains": sorted(policy.chains)},
    )
    return row.id, policy


def configured_policy(settings: Settings) -> RoutingPolicy:
    """The policy used before any version is stored: the settings' file, else the built-in default."""
    path = Path(settings.escalation_policy_path or DEFAULT_POLICY_PATH)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
    return _load(path, stamp)


@lru_cache(maxsize=8)
def _load(path: Path, stamp: int) -> RoutingPolicy:
    """Parsed once per file version (the stamp changes when the file is edited)."""
    return load_policy_file(path)


def current_policy(session: Session, settings: Settings) -> tuple[int | None, RoutingPolicy]:
    """(version, policy) in force now; version None means the configured/default file."""
    row = session.execute(select(PolicyVersionRow).order_by(PolicyVersionRow.id.desc()).limit(1)).scalar()
    if row is None:
        return None, configured_policy(settings)
    return row.id, parse_policy(row.routing)
