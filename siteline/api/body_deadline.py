"""A request's body must arrive within a deadline, or the request is answered 408 and its connection closed.

uvicorn bounds how long an idle connection is kept, but not how long a request may take to send the
body it declared: a client that sends `Content-Length: 100000` and then a byte a minute holds a worker's
connection (and a route waiting on the body) for as long as it likes, and a few hundred such clients
hold them all. Here the whole body, not each piece of it, has `seconds` to arrive from the request's
start. Once the body is complete, `receive` is passed through untouched: a streaming response waits on
it for the client's disconnect, which may rightly take much longer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_SECONDS = 30.0  # the API's bodies are small JSON; 30 s is generous on any link a site uses
log = logging.getLogger("siteline.server")


class BodyDeadline:
    """On the deadline the route is told the client left (`http.disconnect`), so it stops waiting wherever
    it was reading; whatever it then answers (FastAPI calls an unreadable body 400) is replaced by the 408."""

    def __init__(self, app: ASGIApp, seconds: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.seconds = BODY_SECONDS if seconds is None else seconds
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = self.clock() + self.seconds
        complete = late = started = replaced = False

        async def timed_receive() -> Message:
            nonlocal complete, late
            if late:  # from here on the client is as good as gone, for every reader of `receive`
                return {"type": "http.disconnect"}
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - self.clock()))
            except TimeoutError:
                late = True
                log.warning("request body not complete after %.0f s: answered 408", self.seconds)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started, replaced
            if late and not started:  # whatever the route says about the body it never got becomes the 408
                if not replaced:
                    replaced = True
                    await self._late(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except Exception as exc:  # a route that raised on the body it never got ("client disconnected")
            if not late:
                raise
            log.info("route gave up on the late body: %s", type(exc).__name__)
        if late and not started and not replaced:
            await self._late(scope, receive, send)

    async def _late(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body did not arrive within {self.seconds:.0f} s"
        await JSONResponse({"detail": detail}, status_code=408, headers={"Connection": "close"})(scope, receive, send)
