"""The acknowledge link's web page: small, self-contained HTML (no scripts, no outside resources),
every value escaped, and headers that keep it out of caches, search engines and Referer headers."""

from __future__ import annotations

import html

from bot.email.acknowledge import Outcome

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the page's URL is the token: never hand it to another site
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}


def render(outcome: Outcome, *, action: str) -> str:
    """The page for an outcome; with `confirm`, a form that POSTs to `action` (the same URL)."""
    e = html.escape
    facts = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in outcome.facts)
    table = f"<table>{facts}</table>" if facts else ""
    form = (
        f"<form method='post' action='{e(action, quote=True)}'><button type='submit'>Acknowledge</button></form>"
        if outcome.confirm
        else ""
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(outcome.title)} · Siteline</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}"
        "th{text-align:left;padding-right:1em}button{font-size:1.1em;padding:.5em 1.5em;background:#1a7f37;"
        "color:#fff;border:0;border-radius:4px}</style></head><body>"
        f"<h1>{e(outcome.title)}</h1><p>{e(outcome.message)}</p>{table}{form}</body></html>"
    )
