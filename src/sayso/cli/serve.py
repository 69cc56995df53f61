"""``sayso serve``: the web page, the realtime WebSocket and the OpenAI-compatible API (and Wyoming)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import functools
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from sayso.cli.common import Commands
from sayso.config import Settings
from sayso.errors import ConfigError
from sayso.realtime.models import Models
from sayso.server.security import ServerOptions, is_loopback, parse_tokens

if TYPE_CHECKING:
    import uvicorn

    from sayso.server.workspace import Workspace

DEFAULT_PORT = 8765


def register(commands: Commands) -> None:
    serve = commands.command("serve", cmd_serve, "Serve Sayso's web page and APIs (127.0.0.1 unless told otherwise).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (not loopback: needs --token)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    serve.add_argument(
        "--token", action="append", default=[], metavar="USER:TOKEN",
        help="a user and their secret token (repeatable); each user sees only their own things",
    )  # fmt: skip
    serve.add_argument(
        "--admin", action="append", default=[], metavar="USER",
        help="a user (with a --token) who may revoke any lent voice and edit the protected registry (repeatable)",
    )  # fmt: skip
    serve.add_argument("--token-file", type=Path, help="a file of USER:TOKEN lines (keeps tokens out of `ps`)")
    serve.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="another web origin allowed to call the API (e.g. http://localhost:3000)",
    )  # fmt: skip
    serve.add_argument(
        "--clone-backend", action="append", default=[], metavar="URL",
        help="a cloning TTS server users may lend voices through (repeatable; none: no lending over HTTP)",
    )  # fmt: skip
    serve.add_argument("--max-upload-mb", type=float, default=25.0, help="largest upload accepted (default 25)")
    serve.add_argument(
        "--engine", choices=("engine", "simple"), default="engine",
        help="the WebSocket's turns: the streaming engine (default), or simple whole-utterance turns "
        "that also take typed text",
    )  # fmt: skip
    serve.add_argument("--wyoming", metavar="tcp://HOST:PORT", help="also serve STT and TTS over the Wyoming protocol")
    serve.add_argument(
        "--wyoming-trust-network", action="store_true",
        help="allow a non-loopback Wyoming address (Wyoming has no tokens: trust that network)",
    )  # fmt: skip


def server_options(args: argparse.Namespace) -> ServerOptions:
    """The server's exposure from the command line; ConfigError for anything unsafe or malformed."""
    specs = list(args.token)
    if args.token_file is not None:
        try:
            specs += [line.strip() for line in args.token_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except OSError as error:
            raise ConfigError(f"The token file {args.token_file} cannot be read ({error.strerror}).") from error
    if not 0 < args.port < 65536:
        raise ConfigError(f"The port must be between 1 and 65535, not {args.port}.")
    return ServerOptions(
        host=args.host,
        port=args.port,
        tokens=parse_tokens(specs),
        extra_origins=tuple(args.allow_origin),
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        admins=frozenset(args.admin),
        clone_backends=tuple(args.clone_backend),
    )


def wyoming_address(uri: str, trust_network: bool) -> tuple[str, int]:
    """Host and port of a ``tcp://HOST:PORT`` Wyoming URI."""
    parsed = urlparse(uri)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "tcp" or not parsed.hostname or port is None:
        raise ConfigError(f"--wyoming takes tcp://HOST:PORT (e.g. tcp://127.0.0.1:10300), not {uri!r}.")
    if not is_loopback(parsed.hostname) and not trust_network:
        raise ConfigError(
            "The Wyoming protocol has no tokens, so anyone who reaches its port can use it; "
            "add --wyoming-trust-network to serve it on a network address anyway."
        )
    return parsed.hostname, port


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from sayso.server.app import create_app
    from sayso.server.workspace import Workspace

    options = server_options(args)
    wyoming = wyoming_address(args.wyoming, args.wyoming_trust_network) if args.wyoming else None
    workspace = Workspace(Models(settings), options, engine=args.engine)
    workspace.voice("", settings.voice)  # a bad default voice fails now, not at the first request
    config = uvicorn.Config(
        create_app(workspace), host=options.host, port=options.port, log_level="warning", ws_max_size=1 << 20
    )
    listening = listen(options.host, options.port)  # before saying where Sayso is: the port may be taken
    print(f"Sayso is at http://{options.host}:{options.port}/ (Ctrl-C to stop)", flush=True)
    if wyoming is not None:
        print(f"Wyoming STT and TTS at tcp://{wyoming[0]}:{wyoming[1]}", flush=True)
    asyncio.run(_serve(uvicorn.Server(config), listening, workspace, wyoming))
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; ConfigError, in one sentence, when that is not possible."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as error:
        raise ConfigError(f"Sayso cannot listen on {host!r}: {error.strerror or error}.") from error
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"Port {port} on {host} is already in use (another Sayso?); stop that program or pick another --port."
            ) from error
        raise ConfigError(f"Sayso cannot listen on {host}:{port}: {error.strerror or error}.") from error
    return sock


async def _serve(
    server: uvicorn.Server, listening: socket.socket, workspace: Workspace, wyoming: tuple[str, int] | None
) -> None:
    """Run the HTTP server (and Wyoming) until Ctrl-C or SIGTERM; the models warm up meanwhile."""
    from wyoming.server import AsyncTcpServer

    from sayso.server.wyoming import SaysoWyomingHandler

    warm = asyncio.ensure_future(asyncio.to_thread(workspace.warm))
    # start(), not run(): run() would take SIGTERM from uvicorn, which then never stops.
    speech = AsyncTcpServer(*wyoming) if wyoming is not None else None
    if speech is not None:
        await speech.start(functools.partial(SaysoWyomingHandler, workspace))
    try:
        await server.serve(sockets=[listening])
    finally:
        warm.cancel()
        if speech is not None:
            await speech.stop()
