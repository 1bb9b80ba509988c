"""`siteline serve --reuse-port`: several `serve` processes on one machine share one port and one SQLite
file; connections are spread between them, exactly one leads the scheduler, and when one is killed the
other keeps serving on the same port."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.chroma_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
BIN = Path(sys.executable).parent


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(BIN / "siteline"), "serve", "--port", str(port), "--reuse-port"], env=env, stdout=out, stderr=out
        )


def _leads(url: str) -> float:
    """The leader flag of whichever process answers /metrics (a new connection each time)."""
    body = httpx.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=10).text
    leader = re.search(r"^siteline_scheduler_leader (\S+)$", body, re.M)
    assert leader, body[:500]
    return float(leader.group(1))


def test_two_serve_processes_share_one_port_and_one_sqlite_file(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_", "TEAMS_"))}
    env |= {"SITELINE_HOME": str(tmp_path / "home"), "SITELINE_TICK_SECONDS": "1", "SITELINE_LOG_LEVEL": "WARNING"}
    subprocess.run([str(BIN / "siteline"), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    procs = [_start(env, port, tmp_path / f"serve-{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + 90
        seen: set[float] = set()
        while time.monotonic() < deadline and seen != {0.0, 1.0}:
            for p, i in zip(procs, range(2), strict=True):
                assert p.poll() is None, (tmp_path / f"serve-{i}.log").read_text()[-2000:]
            with contextlib.suppress(httpx.TransportError):
                seen.add(_leads(url))
            time.sleep(0.1)
        # Both answered on the one port, and of the two exactly one leads the scheduler of the file
        # (two leaders would only ever say 1, none only 0).
        assert seen == {0.0, 1.0}, f"leader flags seen: {seen}"

        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(30)
        for _ in range(10):  # the survivor answers every new connection on the same port
            assert httpx.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=10).status_code == 200
        deadline = time.monotonic() + 30
        while _leads(url) != 1 and time.monotonic() < deadline:  # and takes the lead within a tick
            time.sleep(0.5)
        assert _leads(url) == 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(30)


def test_reuse_port_on_a_bad_address_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_", "TEAMS_"))}
    env["SITELINE_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [str(BIN / "siteline"), "serve", "--host", "192.0.2.1", "--port", str(free_port()), "--reuse-port"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "cannot listen on 192.0.2.1" in done.stderr and "Traceback" not in done.stderr
