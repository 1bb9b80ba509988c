"""`siteline serve`: run the HTTP service (health, JSON API, Slack, Teams, scheduler)."""

from __future__ import annotations

import logging
import socket
import threading

import typer
import uvicorn

from siteline.cli.common import container, fail
from siteline.container import Container

log = logging.getLogger("siteline.serve")


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="interface to listen on"),
        port: int = typer.Option(3000, help="port to listen on"),
        reuse_port: bool = typer.Option(
            False,
            "--reuse-port",
            help="share the port with other `siteline serve` processes on this machine (the kernel spreads "
            "connections between them): how one machine uses more than one core",
        ),
    ) -> None:
        """Run the service until interrupted."""
        from siteline import logs
        from siteline.server import create_app

        c = container()
        logs.configure(c.settings)
        _say_if_index_incomplete(c)
        threading.Thread(target=c.knowledge.warm_up, name="warm-up", daemon=True).start()
        config = uvicorn.Config(
            create_app(c),
            host=host,
            port=port,
            log_level=c.settings.log_level.lower(),
            log_config=None,
            access_log=False,
        )
        server = uvicorn.Server(config)
        if not reuse_port:
            server.run()
            return
        try:
            shared = _shared_socket(host, port)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} with --reuse-port: {exc.strerror or exc}")
        server.run(sockets=[shared])


def _say_if_index_incomplete(c: Container) -> None:
    """Warn at start when the vector index holds fewer vectors than stored chunks: after an upgrade to a new
    reader (its collection starts empty) or a lost index, answers come from keywords alone until `siteline
    reindex`, and nothing else would tell the operator. Never stops the start: a Chroma server still coming up
    is reported by the asks themselves."""
    try:
        held, stored = c.knowledge.index_gap()
    except Exception as exc:  # a check, not a dependency of serving
        log.warning("could not compare the vector index with the stored chunks: %s", exc)
        return
    if held < stored:
        log.warning(
            "the vector index holds %d vectors for %d stored chunks: the others are found by keywords alone "
            "until `siteline reindex` embeds them (a new embedding model starts an empty index)",
            held, stored,
        )  # fmt: skip


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket bound with SO_REUSEPORT: every process bound so to the same address gets a share
    of the new connections (Linux, BSD); a process that ends leaves the others serving."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(info[4])
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
