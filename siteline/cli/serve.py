"""`siteline serve`: run the HTTP service (health, JSON API, Slack, Teams, scheduler)."""

from __future__ import annotations

import typer
import uvicorn

from siteline.cli.common import container


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="interface to listen on"),
        port: int = typer.Option(3000, help="port to listen on"),
    ) -> None:
        """Run the service until interrupted."""
        from siteline import logs
        from siteline.server import create_app

        c = container()
        logs.configure(c.settings)
        uvicorn.run(
            create_app(c),
            host=host,
            port=port,
            log_level=c.settings.log_level.lower(),
            log_config=None,
            access_log=False,
        )
