"""``saz serve``: the web page and HTTP API (the ``saz[web]`` extra)."""

from __future__ import annotations

import typer

from saz.cli.errors import fail, reported
from saz.cli.loaders import trust_option
from saz.cli.output import err


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000),
    model: str = typer.Option("default", "--model", "-m", help="'default' (bundled) or a checkpoint file."),
    max_upload_mb: float = typer.Option(100.0, help="Uploads above this size get 413."),
    max_teach_mb: float = typer.Option(500.0, help="A teach request's recordings together above this size get 413 "
                                       "(each one: --max-upload-mb)."),
    max_seconds: float = typer.Option(600.0, min=1.0, help="Recordings longer than this get 413 (from the header, "
                                      "before decoding, and while decoding)."),
    max_jobs: int = typer.Option(2, min=1, help="Predictions running at once, each on a worker thread."),
    max_queue: int = typer.Option(8, min=0, help="Predictions waiting for a free job; beyond, 503 with Retry-After."),
    trust: bool = trust_option(),
) -> None:
    """The web page and HTTP API: upload a recording, see the instruments and when they play."""
    try:
        import uvicorn

        from saz.serve.app import create_app
    except ImportError as e:
        fail(f"the web app needs its extra: pip install 'saz[web]' ({e})")
    from saz.models.checkpoint import CheckpointError

    with reported(CheckpointError):
        application = create_app(model, max_upload_mb, max_seconds=max_seconds, max_jobs=max_jobs, max_queue=max_queue,
                                 trust=trust, max_teach_mb=max_teach_mb)
    err.print(f"saz serving on http://{host}:{port}/ (API docs: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
