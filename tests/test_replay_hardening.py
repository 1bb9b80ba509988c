"""`siteline replay` refuses what it cannot replay faithfully, writes `--out` whole or not at all, reads a BOM."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from siteline.cli import app

runner = CliRunner()
SITE = {"type": "site", "at": "2026-03-02T00:00:00Z", "site_id": "S1", "name": "x", "tz": "Europe/Paris",
        "tier": "standard", "studies": ["A"], "digest_times": ["08:30"], "quiet_hours": ["19:00", "07:00"]}  # fmt: skip
URGENT = {"type": "update", "at": "2026-03-02T09:00:00Z", "id": "m1", "from": "p", "org": "sponsor", "study": "A",
          "sites": "all", "subject": "URGENT safety: stop dosing now", "declared_priority": "urgent",
          "body": "Stop dosing all participants immediately pending the safety review."}  # fmt: skip


def _scenario(tmp_path: Path, *lines: dict, bom: bool = False) -> Path:
    path = tmp_path / "scenario.jsonl"
    text = "".join(json.dumps(line) + "\n" for line in lines)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_a_duplicate_update_id_with_other_content_is_an_error(tmp_path: Path) -> None:
    later = {**URGENT, "at": "2026-03-02T10:00:00Z", "subject": "Newsletter"}
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, later))])
    assert result.exit_code == 2
    assert "line 3 (update): id 'm1' was already used on line 2 with different content" in result.output
    same = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, {**URGENT}))])
    assert same.exit_code == 0, same.output  # the same update sent twice is a resend, not an error


def test_an_update_for_an_unknown_study_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, {**URGENT, "study": "B"}))])
    assert result.exit_code == 2
    assert "line 2 (update): study 'B' is not on any site declared before this line (studies: A)" in result.output
    assert "Traceback" not in result.output


def test_a_line_rejected_while_running_leaves_no_partial_out_file(tmp_path: Path) -> None:
    out = tmp_path / "deliveries.jsonl"
    bad = {**URGENT, "at": "2026-03-02T11:00:00Z", "id": "m2", "sites": ["S9"]}  # known only when it runs
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, bad)), "--out", str(out)])
    assert result.exit_code == 2
    assert "line 3 (update): sites: unknown site(s) S9" in result.output
    assert not out.exists()
    out.write_text("earlier run\n")
    runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, bad)), "--out", str(out)])
    assert out.read_text() == "earlier run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    out = tmp_path / "deliveries.jsonl"
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, bom=True)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    delivered = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(d["to"], d["items"][0]["id"]) for d in delivered] == [("S1", "m1")]


def test_a_chat_identity_given_to_a_second_person_is_an_error_naming_both(tmp_path: Path) -> None:
    at = "2026-03-02T00:00:00Z"
    ana = {"type": "person", "at": at, "person_id": "ana", "role": "cra", "sites": ["S1"], "slack_user_id": "U1"}
    ben = {"type": "person", "at": at, "person_id": "ben", "role": "cra", "sites": ["S1"], "chat": {"slack": "U1"}}
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, ana, ben, URGENT))])
    assert result.exit_code == 2
    assert "line 3 (person): slack identity U1 of person ben already belongs to person ana" in result.output
    assert "Traceback" not in result.output
    moved = {**ana, "slack_user_id": None, "chat": {"slack": "U2"}}  # Ana lets go of U1 first: then Ben may have it
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, ana, moved, ben, URGENT))])
    assert result.exit_code == 0, result.output


def test_a_line_after_end_is_named_not_dropped_in_silence(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """Found by a probe: an update after `end` vanished, the output identical to the run without it."""
    end = {"type": "end", "at": "2026-03-03T00:00:00Z"}
    late = {**URGENT, "at": "2026-03-04T09:00:00Z", "id": "m9"}
    result = runner.invoke(app, ["replay", str(_scenario(tmp_path, SITE, URGENT, end, late))])
    assert result.exit_code == 0, result.output
    assert "line 4 (update) comes after the `end` line (line 3) and was not run" in caplog.text
