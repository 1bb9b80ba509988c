"""A delivery worker in its own process, for the crash test.

    python -m tests.triage_crash_child URL NOW OUT MODE WORKER


It runs one `Ticker.run(NOW)` (the digest flush timer, then the outbox) through a Notifier that
appends each message to OUT and fsyncs it, as a chat platform would have received it. In MODE
`block2` (`block1`) it prints BLOCKED after recording its 2nd (1st) message and hangs there,
mid-flush, waiting to be killed: that message reached the platform but was never marked sent.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from core.clock import parse_instant
from core.db import make_engine, make_session_factory
from core.notify import OutboundMessage, SendResult
from scheduler.runner import Ticker
from triage.digest import flush_due
from triage.engine import DIGEST_TIMER


class FileNotifier:
    def __init__(self, path: Path, block_on: int | None) -> None:
        self.path = path
        self.block_on = block_on
        self.count = 0

    def send(self, message: OutboundMessage) -> SendResult:
        record = {"delivery": message.delivery_id, "to": message.recipient, "kind": message.kind,
                  "items": [i["id"] for i in message.payload.get("items", [])]}  # fmt: skip
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.count += 1
        if self.count == self.block_on:
            print("BLOCKED", flush=True)
            threading.Event().wait()  # until SIGKILL
        return SendResult.sent(f"file:{message.delivery_id}")


def main() -> None:
    url, now, out, mode, worker = sys.argv[1:6]
    engine = make_engine(url)
    ticker = Ticker(
        make_session_factory(engine),
        timer_handlers={DIGEST_TIMER: flush_due},
        notifier=FileNotifier(Path(out), {"block1": 1, "block2": 2}.get(mode)),
        worker_id=worker,
    )
    done = ticker.run(parse_instant(now))
    print(f"DONE {done}", flush=True)


if __name__ == "__main__":
    main()
