"""What a browser must be told about the dashboard, and what it must not be able to do from elsewhere.

The dashboard signs people in with a cookie, so a page on another site could post a form to it with that
cookie riding along: sign a study manager out, or publish a clarification to sites. Browsers send the page's
`Origin` (or at least its `Referer`) with such a post, so an unsafe request whose origin is neither this
server's nor `SITELINE_PUBLIC_URL`'s is refused before any route runs. Requests carrying neither header are
not from a browser page (scripts with the API token, the tests) and are judged by their credentials as before.

Every dashboard response says it must not be cached, sniffed or framed (a framed "Publish" button can be
clicked by a visitor who never meant to); HTML gets a Content-Security-Policy that allows no scripts at all
(the pages have none) and only the inline styles they use.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/dashboard", "/api/dashboard")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
HTML_ONLY = [(b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode())]


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


class DashboardGuard:
    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public = _origin(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS and not self._same_site(scope):
            refused = PlainTextResponse("refused: this request was sent from another site", status_code=403)
            await refused(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send))

    def _same_site(self, scope: Scope) -> bool:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        # "null": a page with `Referrer-Policy: no-referrer` (the sign-in link's own page) or a sandboxed frame;
        # its Referer, if any, decides, and the SameSite=Lax cookie is not sent from another site's page anyway
        sent = (origin if origin != "null" else None) or headers.get("referer")
        if not sent:
            return True  # not sent by a browser page, or a page that hides where it is
        own = {o for o in (self.public, _origin(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")) if o}
        return _origin(sent) in own

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                for key, value in ALWAYS + (HTML_ONLY if html else []):
                    if key not in present:
                        headers.append((key, value))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped
