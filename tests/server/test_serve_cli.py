"""`sayso serve` refuses unsafe or malformed exposure with one clear sentence."""

from __future__ import annotations

import pytest

from sayso.cli import main


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--host", "0.0.0.0"], "give a token"),
        (["--host", "0.0.0.0", "--token", "alice:short"], "at least 16 characters"),
        (["--token", "al ice:0123456789abcdef"], "USER:TOKEN"),
        (["--token", "a:0123456789abcdef", "--token", "b:0123456789abcdef"], "both 'a' and 'b'"),
        (["--port", "70000"], "between 1 and 65535"),
        (["--admin", "alice"], "An admin needs a token"),
        (["--token", "bob:0123456789abcdef", "--admin", "alice"], "--token alice:TOKEN"),
        (["--wyoming", "udp://127.0.0.1:10300"], "tcp://HOST:PORT"),
        (["--wyoming", "tcp://0.0.0.0:10300"], "--wyoming-trust-network"),
        (["--token-file", "/nonexistent/tokens"], "cannot be read"),
        (["--voice", "alloy"], "no voice called 'alloy'"),
    ],
)
def test_bad_serve_options_fail_clearly(args: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *args]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
