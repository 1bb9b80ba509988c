"""Server-rendered HTML for the dashboard: plain string templates, escaped, with small inline SVG
charts beside the tables that carry the same numbers (no JavaScript, nothing fetched from outside).

Every figure cell carries `data-k` (e.g. `ALPHA.S01.raw_updates`) so a browser test can compare
the page with the JSON endpoint.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#fff}main{padding:16px 20px;max-width:1200px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin:0 0 16px}
h1{font-size:20px;margin:0}h2{font-size:17px;margin:0 0 8px}h3{font-size:15px;margin:12px 0 6px}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #e5e8ee;padding:3px 8px;text-align:right}
th:first-child,td:first-child,td.t,th.t{text-align:left}.row{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.muted{color:#667085}.bad{color:#b42318}details summary{cursor:pointer;color:#1d4ed8}
form textarea,form input[type=text]{width:100%;box-sizing:border-box}
"""


def h(value: Any) -> str:
    return escape("" if value is None else str(value))


def num(value: Any, key: str) -> str:
    shown = "–" if value is None else value
    return f'<td data-k="{h(key)}">{h(shown)}</td>'


def page(title: str, body: str, viewer: dict[str, Any] | None = None) -> str:
    who = (
        f'<span class="muted">signed in as {h(viewer["person"])} ({h(viewer["role"])})</span>'
        '<form method="post" action="/dashboard/logout" style="margin:0"><button type="submit">Sign out</button></form>'
        if viewer
        else ""
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{h(title)} · Siteline</title>'
        f"<style>{CSS}</style></head><body><header><h1>Siteline</h1>"
        '<a href="/dashboard">Overview</a><a href="/dashboard/clusters">Protocol unclear</a>'
        f"{who}</header><main>{body}</main></body></html>"
    )


def bars(rows: list[tuple[str, list[float]]], *, series: list[str], colours: list[str], title: str) -> str:
    """Horizontal stacked bars, one per row (label, values per series), with a legend."""
    if not rows:
        return '<p class="muted">nothing yet</p>'
    top = max((sum(v) for _, v in rows), default=0) or 1
    width, left, bar_h = 360, 170, 18
    height = len(rows) * (bar_h + 6) + 26
    parts = [f'<svg role="img" aria-label="{h(title)}" width="{width + left + 40}" height="{height}">']
    for i, (label, values) in enumerate(rows):
        y = i * (bar_h + 6)
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text x="0" y="{y + 13}" font-size="12"><title>{h(label)}</title>{h(short)}</text>')
        x = float(left)
        for value, colour in zip(values, colours, strict=True):
            w = width * value / top
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}" font-size="11">{h(_fmt(sum(values)))}</text>')
    y = len(rows) * (bar_h + 6) + 12
    for j, (name, colour) in enumerate(zip(series, colours, strict=True)):
        parts.append(f'<rect x="{left + j * 130}" y="{y}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + j * 130 + 14}" y="{y + 9}" font-size="11">{h(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def trend(weeks: dict[str, dict[str, int]], title: str) -> str:
    """Messages per week, immediate on top of digest, as vertical stacked bars."""
    if not weeks:
        return '<p class="muted">no messages sent in this period</p>'
    top = max(w["immediate"] + w["digest"] for w in weeks.values()) or 1
    col, chart_h = 44, 120
    parts = [f'<svg role="img" aria-label="{h(title)}" width="{len(weeks) * col + 20}" height="{chart_h + 34}">']
    for i, (week, c) in enumerate(weeks.items()):
        x = 10 + i * col
        dh = chart_h * c["digest"] / top
        ih = chart_h * c["immediate"] / top
        parts.append(f'<rect x="{x}" y="{chart_h - dh:.1f}" width="30" height="{dh:.1f}" fill="#457b9d"/>')
        parts.append(f'<rect x="{x}" y="{chart_h - dh - ih:.1f}" width="30" height="{ih:.1f}" fill="#e63946"/>')
        parts.append(f'<text x="{x}" y="{chart_h + 14}" font-size="10">{h(week[5:])}</text>')
        parts.append(f'<text x="{x}" y="{chart_h + 28}" font-size="10">{c["immediate"]}+{c["digest"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _spread(d: dict[str, Any], key: str) -> str:
    return num(d["median_h"], f"{key}.median_h") + num(d["p90_h"], f"{key}.p90_h") + num(d["n"], f"{key}.n")


def overview(data: dict[str, Any]) -> str:
    out = [
        f'<p class="muted">From {h(data["since"])} to {h(data["until"])} ({h(data["days"])} days) · '
        '<a href="/api/dashboard/overview">the same numbers as JSON</a></p>'
    ]
    if not data["studies"]:
        out.append("<section><p>No study or site is in your scope.</p></section>")
    for st in data["studies"]:
        s, t = st["study"], st["totals"]
        q = t["questions"]
        out.append(f'<section id="study-{h(s)}"><h2>{h(s)}</h2><div class="row"><div><h3>Totals</h3><table>')
        for label, key, value in [
            ("update-site pairs pushed", "raw_updates", t["raw_updates"]),
            ("messages delivered", "delivered_messages", t["delivered_messages"]),
            ("noise ratio (delivered / pushed)", "noise_ratio", t["noise_ratio"]),
            ("interruptions (sent at once)", "interruptions", t["interruptions"]),
            ("… of them in quiet hours", "quiet_hour_interruptions", t["quiet_hour_interruptions"]),
            ("questions asked", "questions.asked", q["asked"]),
            ("answered / abstained", "questions.answered", f"{q['answered']} / {q['abstained']}"),
            ("marked helpful / not helpful", "questions.helpful", f"{q['helpful']} / {q['not_helpful']}"),
            ("open Ask-my-CRA questions", "open_questions", t["open_questions"]),
            ("failed deliveries", "failed_deliveries", t["failed_deliveries"]),
            ("deliveries waiting", "waiting_deliveries", t["waiting_deliveries"]),
        ]:
            out.append(f'<tr><td class="t">{h(label)}</td>{num(value, f"{s}.totals.{key}")}</tr>')
        out.append("</table></div><div><h3>Messages per week (immediate + digest)</h3>")
        out.append(trend(st["weeks"], f"{s} messages per week"))
        out.append("<table><tr><th>week</th><th>immediate</th><th>digest</th></tr>")
        for week, c in st["weeks"].items():
            out.append(
                f"<tr><td>{h(week)}</td>{num(c['immediate'], f'{s}.weeks.{week}.immediate')}"
                f"{num(c['digest'], f'{s}.weeks.{week}.digest')}</tr>"
            )
        out.append("</table></div></div><h3>Per site: what was pushed, what reached the site</h3>")
        out.append(
            bars(
                [(r["site_id"], [r["delivered_messages"], r["saved_messages"]]) for r in st["sites"]],
                series=["delivered", "spared by triage"],
                colours=["#457b9d", "#a8dadc"],
                title=f"{s} per-site messages",
            )
        )
        cols = [
            ("pushed", "raw_updates"),
            ("delivered", "delivered_messages"),
            ("spared", "saved_messages"),
            ("noise", "noise_ratio"),
            ("immediate", "interruptions"),
            ("digests", "digests"),
            ("quiet-hour", "quiet_hour_interruptions"),
            ("urgent latency median s", "urgent_latency_median_s"),
            ("failed", "failed_deliveries"),
            ("waiting", "waiting_deliveries"),
            ("open questions", "open_questions"),
            ("oldest open q. h", "oldest_open_question_h"),
        ]
        out.append("<table><tr><th>site</th><th>tier</th>" + "".join(f"<th>{h(c)}</th>" for c, _ in cols))
        out.append("<th>asked</th><th>answered</th><th>abstained</th><th>helpful</th><th>not helpful</th></tr>")
        for r in st["sites"]:
            k = f"{s}.{r['site_id']}"
            out.append(
                f'<tr><td><a href="/dashboard/sites/{quote(r["site_id"])}">{h(r["site_id"])}</a> '
                f'<span class="muted">{h(r["name"])}</span></td><td class="t">{h(r["tier"])}</td>'
            )
            out.extend(num(r[key], f"{k}.{key}") for _, key in cols)
            out.extend(
                num(r["questions"][key], f"{k}.questions.{key}")
                for key in ("asked", "answered", "abstained", "helpful", "not_helpful")
            )
            out.append("</tr>")
        out.append("</table>")
        e = st["escalations"]
        out.append(
            '<div class="row"><div><h3>Escalations</h3><table><tr><th></th><th>median h</th>'
            "<th>p90 h</th><th>n</th></tr>"
            f'<tr><td class="t">time to acknowledge</td>{_spread(e["time_to_ack"], f"{s}.esc.ack")}</tr>'
            f'<tr><td class="t">time to resolve</td>{_spread(e["time_to_resolve"], f"{s}.esc.resolve")}</tr>'
            f'</table><table><tr><td class="t">raised in period</td>{num(e["raised"], f"{s}.esc.raised")}</tr>'
            f'<tr><td class="t">acks missed (ladder climbed)</td>{num(e["acks_missed"], f"{s}.esc.acks_missed")}'
            "</tr></table></div><div><h3>Open escalations by level</h3>"
        )
        out.append(
            bars(
                [(f"level {lvl}", [n]) for lvl, n in e["open_by_level"].items()],
                series=["open"],
                colours=["#e76f51"],
                title=f"{s} open escalations by level",
            )
        )
        out.append(
            "<table><tr><th>id</th><th>site</th><th>level</th><th>status</th><th>category</th><th>age h</th></tr>"
        )
        for x in e["open"]:
            xk = f"{s}.esc.{x['id']}"
            out.append(
                f'<tr><td>{h(x["id"])}</td><td class="t">{h(x["site"])}</td>{num(x["level"], xk + ".level")}'
                f'<td class="t">{h(x["status"])}</td><td class="t">{h(x["category"])}</td>'
                f"{num(x['age_h'], xk + '.age_h')}</tr>"
            )
        out.append(
            "</table></div><div><h3>Open Ask-my-CRA questions</h3><table><tr><th>#</th><th>site</th><th>age h</th></tr>"
        )
        for oq in st["open_questions"]:
            ok = f"{s}.openq.{oq['id']}"
            out.append(
                f'<tr><td>{h(oq["id"])}</td><td class="t">{h(oq["site"])}</td>{num(oq["age_h"], ok + ".age_h")}</tr>'
            )
        out.append(
            "</table></div></div><h3>Senders</h3><table><tr><th>sender</th><th>updates</th>"
            "<th>declared urgent</th><th>rate</th><th>judged urgent</th><th>hint ignored</th></tr>"
        )
        for x in st["senders"]:
            xk = f"{s}.sender.{x['sender']}"
            cells = "".join(
                num(x[key], f"{xk}.{key}")
                for key in ("updates", "declared_urgent", "declared_urgent_rate", "judged_urgent")
            )
            out.append(f"<tr><td>{h(x['sender'])}</td>{cells}<td>{'yes' if x['hint_ignored'] else 'no'}</td></tr>")
        out.append("</table></section>")
    return page("Overview", "".join(out), data["viewer"])


def site360(data: dict[str, Any], viewer: dict[str, Any]) -> str:
    site = data["site"]
    sid = site["site_id"]
    out = [
        f'<section><h2>{h(sid)} · {h(site["name"])}</h2><p class="muted">'
        f'<a href="/api/dashboard/sites/{quote(sid)}">the same as JSON</a></p><table>'
    ]
    quiet = "-".join(site["quiet_hours"]) if site["quiet_hours"] else "none"
    for label, value in [
        ("tier", site["tier"]),
        ("time zone", site["tz"]),
        ("digest slots", ", ".join(site["digest_times"])),
        ("quiet hours", quiet),
        ("next digest", site["next_digest_at"] or "none waiting"),
        ("studies", ", ".join(data["studies"])),
    ]:
        out.append(f'<tr><td class="t">{h(label)}</td><td class="t" data-k="{sid}.{h(label)}">{h(value)}</td></tr>')
    out.append("</table><h3>People</h3><table>")
    for p in data["people"]:
        out.append(
            f'<tr><td class="t">{h(p["person_id"])}</td><td class="t">{h(p["name"] or "")}</td>'
            f'<td class="t">{h(p["role"])}</td></tr>'
        )
    q = data["questions"]
    out.append(
        "</table></section><section><h2>What it received</h2><p class=muted>Each update, the triage "
        "decision and why (subjects only).</p><table><tr><th>received</th><th>study</th><th class=t>subject"
        "</th><th>priority</th><th>decision</th><th class=t>reason</th><th>delivery</th><th>sent</th></tr>"
    )
    for i in data["stream"]:
        out.append(
            f'<tr><td>{h(i["received_at"])}</td><td>{h(i["study"])}</td><td class="t">{h(i["subject"])}'
            f'</td><td>{h(i["priority"])}</td><td>{h(i["status"])}</td><td class="t">{h(i["reason"])}</td>'
            f"<td>{h(i['delivery'] or '')}</td><td>{h(i['sent_at'] or '')}</td></tr>"
        )
    out.append(f'</table><p data-k="{sid}.stream.count">{len(data["stream"])} items</p></section>')
    out.append("<section><h2>Questions by topic</h2><table>")
    for key in ("asked", "answered", "abstained", "helpful", "not_helpful"):
        out.append(f'<tr><td class="t">{h(key.replace("_", " "))}</td>{num(q[key], f"{sid}.questions.{key}")}</tr>')
    out.append("</table>")
    out.append(
        bars(
            [(t[:40], [len(v)]) for t, v in data["topics"].items()],
            series=["questions"],
            colours=["#2a9d8f"],
            title="questions by topic",
        )
    )
    for topic, items in data["topics"].items():
        out.append(f"<details><summary>{h(topic)} ({len(items)})</summary><ul>")
        out.extend(
            f'<li>{h(x["text"])} <span class="muted">{h(x["at"])}'
            f"{' · abstained' if x['abstained'] else ''} {h(' '.join(x['feedback']))}</span></li>"
            for x in items
        )
        out.append("</ul></details>")
    out.append("</section><section><h2>Escalations</h2>")
    if not data["escalations"]:
        out.append('<p class="muted">none</p>')
    for e in data["escalations"]:
        out.append(
            f"<h3>{h(e['id'])} · {h(e['category'])} · {h(e['severity'])} · {h(e['status'])} "
            f"(level {h(e['level'])}, {h(e['age_h'])} h)</h3><table>"
        )
        out.extend(
            f'<tr><td>{h(x["at"])}</td><td class="t">{h(x["kind"])}</td><td>level {h(x["level"])}</td>'
            f'<td class="t">{h(x["actor"])}</td></tr>'
            for x in e["history"]
        )
        out.append("</table>")
    out.append("</section><section><h2>Feedback</h2><table>")
    out.extend(
        f'<tr><td>{h(f["at"])}</td><td class="t">question {h(f["question_id"])}</td>'
        f'<td class="t">{h(f["value"])}</td></tr>'
        for f in data["feedback"]
    )
    out.append("</table></section>")
    return page(f"Site {sid}", "".join(out), viewer)


def clusters(data: dict[str, Any], viewer: dict[str, Any], publishable: set[str], notice: str = "") -> str:
    out = [
        '<section><h2>Protocol unclear</h2><p class="muted">Questions from two or more sites that mean the '
        "same thing, heaviest first (a question weighs 3 when the documents did not settle it: abstained, "
        'not helpful, or handed to the CRA; 1 otherwise). <a href="/api/dashboard/clusters">JSON</a></p>'
    ]
    if notice:
        out.append(f'<p data-k="notice"><strong>{h(notice)}</strong></p>')
    out.append(
        bars(
            [(c["id"], [c["weight"]]) for c in data["clusters"]],
            series=["weight"],
            colours=["#f4a261"],
            title="clusters by weight",
        )
    )
    out.append("</section>")
    if not data["clusters"]:
        out.append('<section><p class="muted">No question has been asked at two sites yet.</p></section>')
    for c in data["clusters"]:
        cid = c["id"]
        out.append(
            f'<section id="{h(cid)}"><h2>{h(cid)} · {h(c["study"])}</h2><table>'
            f'<tr><td class="t">sites</td><td class="t" data-k="{h(cid)}.sites">{h(", ".join(c["sites"]))}</td></tr>'
            f'<tr><td class="t">weight</td>{num(c["weight"], f"{cid}.weight")}</tr>'
            f'<tr><td class="t">questions (unclear)</td>{num(c["questions"], f"{cid}.questions")}</tr>'
            "</table><h3>Wordings</h3><ul>"
        )
        out.extend(
            f'<li>{h(w["site"])}: “{h(w["text"])}” <span class="muted">{h(w["at"])}'
            f"{' · abstained' if w['abstained'] else ''} {h(' '.join(w['feedback']))}</span></li>"
            for w in c["wordings"]
        )
        out.append("</ul><h3>Passages cited</h3><ul>")
        out.extend(
            f"<li>{h(p['doc'])} v{h(p['version'])} § {h(p['section'])} p.{h(p['page'])}</li>" for p in c["passages"]
        ) if c["passages"] else out.append('<li class="muted">none</li>')
        out.append("</ul>")
        if c["clarifications"]:
            out.append(f"<p>Clarification published: {h('; '.join(c['clarifications']))}</p>")
        if cid in publishable:
            out.append(
                f'<h3>Publish a clarification</h3><form method="post" action="/dashboard/clusters/{quote(cid)}'
                '/clarification"><p><input type="text" name="subject" placeholder="subject" required></p>'
                '<p><textarea name="body" rows="4" placeholder="the clarification, as sites should read it"'
                ' required></textarea></p><p><button type="submit">Publish to '
                f"{h(', '.join(c['sites']))}</button></p></form>"
            )
        out.append("</section>")
    return page("Protocol unclear", "".join(out), viewer)


def sign_in(message: str = "", token: str | None = None, *, oidc: bool = False, send: bool = False) -> str:
    """The sign-in page: a link's confirm button, or how to get a link (sent to you when Siteline can reach
    people, and single sign-on when configured)."""
    if token:
        body = (
            "<section><h2>Sign in to the Siteline dashboard</h2><p>This link signs you in once.</p>"
            f'<form method="post" action="/dashboard/login/{quote(token)}"><button type="submit" id="continue">'
            "Continue</button></form></section>"
        )
    else:
        sso = (
            '<form method="get" action="/dashboard/oidc/login"><button type="submit" id="oidc">'
            "Sign in with your organisation</button></form><p class=muted>or</p>"
            if oidc
            else ""
        )
        ask = (
            '<form method="post" action="/dashboard/login/send"><label>Your work e-mail '
            '<input type="email" name="email" id="email" required maxlength="200" autocomplete="email"></label> '
            '<button type="submit" id="send">Send me a sign-in link</button></form>'
            "<p class=muted>It comes by chat, or by e-mail if Siteline has no chat address for you.</p>"
            if send
            else ""
        )
        body = (
            "<section><h2>Sign in</h2>"
            f"{f'<p class=bad>{h(message)}</p>' if message else ''}{sso}{ask}"
            "<p>Or ask Siteline in chat for a dashboard link (or an operator: "
            "<code>siteline dashboard link PERSON_ID</code>). Links work once and expire.</p></section>"
        )
    return page("Sign in", body)


def refused(status: int, message: str) -> str:
    return page(str(status), f'<section><h2>{status}</h2><p class="bad">{h(message)}</p></section>')
