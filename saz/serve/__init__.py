"""The web app and HTTP API (``saz serve``): FastAPI under uvicorn, one plain HTML/JS page."""
