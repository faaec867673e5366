"""The ``assistant serve`` command (its own module: the other commands fill cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError


def serve(
    store: Annotated[Path | None, typer.Option("--store", help="Store directory \\[env: ASSISTANT_STORE; default: .assistant].", show_default=False)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind; other than 127.0.0.1 needs an API key.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    api_key: Annotated[str | None, typer.Option("--api-key", help="Key clients must send \\[env: ASSISTANT_API_KEY].", show_default=False)] = None,
    cors_origin: Annotated[list[str] | None, typer.Option("--cors-origin", help="Allow browser pages from this origin (repeatable); off by default.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Questions answered at once.")] = 2,
) -> None:
    """Serve the assistant over HTTP: an OpenAI-compatible API with citations, and a web page at /.

    Any OpenAI client works with base_url http://HOST:PORT/v1. Documents are added with
    `assistant ingest` (also while the server runs); the server never reads a path from a request.

    [b]Examples[/]

      assistant serve
      assistant serve --port 8080 --store ~/notes/.assistant
      ASSISTANT_API_KEY=secret assistant serve --host 0.0.0.0
    """
    from rich.console import Console

    from assistant.interface.server import serve as run
    from assistant.settings import load_settings

    console = Console(stderr=True, highlight=False)
    try:
        settings = load_settings(store=store)
        key = api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
        console.print(f"serving {settings.store} on http://{host}:{port}/ (OpenAI base_url http://{host}:{port}/v1)", markup=False)
        run(host, port, {"store": store}, api_key=key, cors_origins=tuple(cors_origin or ()), workers=workers,
            max_question_chars=settings.max_question_chars)
    except AssistantError as error:  # one line, exit 2, as every command
        console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
