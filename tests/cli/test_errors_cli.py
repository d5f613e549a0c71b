"""saz.cli.errors and saz.cli.params: one red line and an exit status for a library error; one
KEY=VALUE parser, whose bad item is a usage error."""

from typing import List

import pytest
import typer
from typer.testing import CliRunner

from saz.cli.errors import message, reported
from saz.cli.params import parse_params


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def run(kind: str, param: List[str] = typer.Option([], "--param", "-p")) -> None:
        parse_params(param)
        with reported(KeyError, code=2):
            if kind == "key":
                raise KeyError("unknown thing 'x'")
        if kind == "value":
            with reported(ValueError):
                raise ValueError("bad value")
        if kind == "markup":
            with reported(ValueError):
                raise ValueError("a[/x].wav and [cel][cla]0001__1.wav: bad")
        if kind == "type":
            with reported(ValueError):
                raise TypeError("not caught here")
        print("ok")

    return app


@pytest.mark.parametrize("args, code, err", [
    (["key"], 2, "error: unknown thing 'x'\n"),
    (["value"], 1, "error: bad value\n"),
    (["markup"], 1, "error: a[/x].wav and [cel][cla]0001__1.wav: bad\n"),  # printed as written, never as markup
    (["fine", "-p", "a=1"], 0, ""),
])
def test_reported_errors_are_one_line_and_an_exit_status(args, code, err):
    r = CliRunner().invoke(_app(), args)
    assert (r.exit_code, r.stderr) == (code, err) and r.stdout == ("ok\n" if code == 0 else "")


def test_other_errors_pass_and_a_bad_param_is_a_usage_error():
    r = CliRunner().invoke(_app(), ["type"])
    assert isinstance(r.exception, TypeError)
    r = CliRunner().invoke(_app(), ["fine", "-p", "a"])
    assert r.exit_code == 2 and "expected KEY=VALUE, got 'a'" in r.stderr


def test_message_of_a_key_error_is_its_text():
    assert message(KeyError("unknown model 'x'")) == "unknown model 'x'" and message(ValueError("v")) == "v"
    assert parse_params(["n_mels=64", "name=tar"]) == {"n_mels": 64, "name": "tar"}


def test_the_in_process_runner_shows_an_unexpected_error_as_python_would(cli, monkeypatch):
    class Broken:
        def config(self) -> dict:
            raise RuntimeError("a bug")

    monkeypatch.setattr("saz.features.FEATURES", {"broken": Broken})
    r = cli("features-list")
    assert r.returncode == 1 and "Traceback (most recent call last)" in r.stderr and "RuntimeError: a bug" in r.stderr
    r = cli("version")
    assert r.returncode == 0 and r.stderr == ""
