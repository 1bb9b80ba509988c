"""`siteline notify`, `siteline stats` and `siteline preferences`: triage from the command line.

`notify` stores an outbound update exactly as `POST /api/updates` does (urgent ones are queued for
immediate delivery by the running service's scheduler); `--preview` shows the decision without
storing it. `stats` prints noise, interruptions and urgent latency per site and each sender's
urgent rate. `preferences` shows or sets a site's digest times and quiet hours.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from siteline import phi
from siteline.cli.common import container, fail, print_json
from triage.audience import UpdateRejected
from triage.decision import Decision
from triage.schemas import UpdateIn
from triage.service import PreferencesError
from triage.stats import StatsReport


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'update'}: {e['msg']}" for e in exc.errors())


def _update_from(file: Path | None, fields: dict[str, Any]) -> UpdateIn:
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            fail(f"{file}: cannot read an update from it ({exc})", code=2)
        if not isinstance(data, dict):
            fail(f"{file}: expected one JSON object (an update line)", code=2)
        data = {k: v for k, v in data.items() if k not in ("type", "at")}
    data.update({k: v for k, v in fields.items() if v is not None})
    data.setdefault("id", f"cli-{uuid.uuid4().hex[:12]}")
    try:
        return UpdateIn.model_validate(data)
    except ValidationError as exc:
        fail(_describe(exc), code=2)


def _print_decision(decision: Decision, *, stored: bool) -> None:
    head = "already received" if decision.already_received else ("stored" if stored else "preview (nothing stored)")
    typer.echo(f"{decision.update_id}: {decision.priority} — {decision.reason}  [{head}]")
    counts = ", ".join(f"{k} {v}" for k, v in decision.counts().items() if v)
    typer.echo(f"  sites: {len(decision.sites)} ({counts or 'none'})")
    for s in decision.sites:
        extra = f" → {s.carrier}" if s.carrier else ""
        when = f" at {s.to_json()['digest_at']}" if s.digest_at else ""
        typer.echo(f"  {s.site_id:<12} {s.outcome}{extra}{when}: {s.reason}")
    if decision.sender_flooding:
        typer.echo("  note: this sender marks most updates urgent; their urgent flag is ignored")


def _print_stats(report: StatsReport) -> None:
    t = report.totals()
    typer.echo(f"from {report.since:%Y-%m-%d %H:%M}Z to {report.until:%Y-%m-%d %H:%M}Z")
    typer.echo(
        f"raw update-site pairs {t['raw_updates']}, messages delivered {t['delivered_messages']}, "
        f"noise ratio {t['noise_ratio']}, interruptions {t['interruptions']} "
        f"({t['quiet_hour_interruptions']} in quiet hours)"
    )
    typer.echo(f"\n{'site':<12}{'raw':>6}{'sent':>6}{'noise':>7}{'digests':>8}{'interr.':>8}{'quiet':>6}"
               f"{'merged':>7}{'suppr.':>7}{'pending':>8}{'failed':>7}{'urgent p50/max s':>18}")  # fmt: skip
    for s in report.sites:
        lat = (
            f"{s.urgent_latency_median_s:.0f}/{s.urgent_latency_max_s:.0f}"
            if s.urgent_latency_max_s is not None
            else "-"
        )
        noise = f"{s.noise_ratio:.2f}" if s.noise_ratio is not None else "-"
        typer.echo(f"{s.site_id:<12}{s.raw_updates:>6}{s.delivered_messages:>6}{noise:>7}{s.digests:>8}"
                   f"{s.interruptions:>8}{s.quiet_hour_interruptions:>6}{s.merged:>7}{s.suppressed:>7}{s.pending:>8}"
                   f"{s.failed_deliveries:>7}{lat:>18}")  # fmt: skip
    held = report.undelivered.get("blocked", 0)
    if held:
        typer.echo(f"\nHELD: {held} deliveries are not sent: {report.held_reason}")
    if report.undelivered:
        typer.echo("not sent yet: " + ", ".join(f"{k} {v}" for k, v in sorted(report.undelivered.items())))
    typer.echo(f"\n{'sender':<24}{'updates':>8}{'declared urgent':>17}{'rate':>7}{'judged urgent':>15}  hint")
    for p in report.senders:
        hint = "ignored (flooding)" if p.hint_ignored else "considered"
        typer.echo(f"{p.sender:<24}{p.updates:>8}{p.declared_urgent:>17}{p.declared_urgent_rate:>7.0%}"
                   f"{p.judged_urgent:>15}  {hint}")  # fmt: skip


def register(app: typer.Typer) -> None:
    @app.command("notify")
    def notify(
        study: str = typer.Option(None, "--study", help="study id"),
        sites: str = typer.Option(None, "--sites", help='"all" or comma-separated site ids'),
        subject: str = typer.Option(None, "--subject"),
        body: str = typer.Option(None, "--body", help="message text (or --body-file)"),
        body_file: Path | None = typer.Option(None, "--body-file", help="read the message text from a file"),
        sender: str = typer.Option(None, "--from", help="sender person id"),
        org: str = typer.Option(None, "--org", help="sponsor or cro"),
        declared: str = typer.Option(None, "--declared-priority", help="urgent, normal or low (a hint)"),
        due: str = typer.Option(None, "--due", help="YYYY-MM-DD"),
        update_id: str = typer.Option(None, "--id", help="update id (default: generated)"),
        file: Path | None = typer.Option(None, "--file", help="an update as JSON (a replay `update` line)"),
        preview: bool = typer.Option(False, "--preview", help="show the decision without storing anything"),
        as_json: bool = typer.Option(False, "--json", help="print the decision as JSON"),
    ) -> None:
        """Send an outbound update to sites: Siteline judges priority, merges repeats, batches digests."""
        if body_file is not None:
            try:
                body = body_file.read_text(encoding="utf-8")
            except OSError as exc:
                fail(f"{body_file}: cannot read ({exc.strerror})", code=2)
        site_list: Any = None
        if sites is not None:
            site_list = "all" if sites.strip() == "all" else [s.strip() for s in sites.split(",") if s.strip()]
        if due is not None:
            try:
                date.fromisoformat(due)
            except ValueError:
                fail(f"due: {due!r} is not a YYYY-MM-DD date", code=2)
        fields = {"id": update_id, "from": sender, "org": org, "study": study, "sites": site_list,
                  "subject": subject, "body": body, "declared_priority": declared, "due": due}  # fmt: skip
        update = phi.redact_update(_update_from(file, fields))
        service = container().triage
        try:
            service.check_origin(update)  # an unknown sender or study would be stored and reach no one
            decision = service.preview(update) if preview else service.submit(update, actor="cli", source="cli")
        except UpdateRejected as exc:
            fail(str(exc), code=2)
        if as_json:
            print_json(decision.to_json())
        else:
            _print_decision(decision, stored=not preview)

    @app.command("stats")
    def stats_cmd(
        days: float = typer.Option(30.0, "--days", min=0.01, help="look back this many days"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    ) -> None:
        """Noise ratio, interruptions and urgent latency per site; urgent rate per sender."""
        report = container().triage.stats(days=days)
        if as_json:
            print_json(report.to_json())
        else:
            _print_stats(report)

    @app.command("preferences")
    def preferences(
        site: str = typer.Argument(..., help="site id"),
        digest: list[str] = typer.Option(None, "--digest", help="a digest time HH:MM (repeat for several)"),
        quiet: str = typer.Option(None, "--quiet", help="quiet hours START-END, e.g. 19:00-07:00"),
        no_quiet: bool = typer.Option(False, "--no-quiet", help="remove quiet hours"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show a site's digest times and quiet hours, or set them (times are the site's local time)."""
        service = container().triage
        try:
            if digest or quiet or no_quiet:
                current = service.preferences(site)
                quiet_hours = None if no_quiet else (quiet.split("-", 1) if quiet else current.quiet_hours)
                if quiet and len(quiet_hours or []) != 2:
                    fail(f"--quiet: {quiet!r} is not START-END (e.g. 19:00-07:00)", code=2)
                prefs = service.set_preferences(
                    site, digest_times=digest or current.digest_times, quiet_hours=quiet_hours, actor="cli"
                )
            else:
                prefs = service.preferences(site)
        except PreferencesError as exc:
            fail(str(exc), code=2)
        if as_json:
            print_json(prefs.to_json())
            return
        data = prefs.to_json()
        quiet_text = "-".join(data["quiet_hours"]) if data["quiet_hours"] else "none"
        typer.echo(f"{site} ({data['tz']}): digests at {', '.join(data['digest_times'])}; quiet hours {quiet_text}")
        if data["next_digest_at"]:
            typer.echo(f"  next digest: {data['next_digest_at']}")
