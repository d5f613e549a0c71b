"""``python -m saz.cli``."""

from saz.cli import app

if __name__ == "__main__":
    app()
