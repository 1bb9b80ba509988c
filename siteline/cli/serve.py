"""`siteline serve`: run the HTTP service (health, JSON API, Slack, Teams, scheduler)."""

from __future__ import annotations

import socket

import typer
import uvicorn

from siteline.cli.common import container, fail


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
