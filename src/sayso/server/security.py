"""Who may use the server: bind address, tokens (one user each), origins and upload size.

- A loopback bind needs no token: every request is the one local user.
- Any other bind needs at least one token (``USER:TOKEN``); each request then names its user by
  its token (``Authorization: Bearer TOKEN``, or ``?token=`` on the WebSocket, which browsers
  cannot give headers). The user id keys everything personal: memories, voices, conversations.
- Admin operations (revoking anyone's lent voice, the protected registry) need a user named with
  ``--admin USER``, who must have a token: a server without tokens has no admin, so anyone who
  can reach it (every local account, on loopback) cannot take voices or protections away.
- Requests carrying an ``Origin`` header must come from the page's own origin (or one allowed
  by ``--allow-origin``), so another web site open in the same browser cannot drive Sayso.
- Token guessing is slowed to a stop: after ``MAX_FAILURES`` wrong or missing tokens from one
  address within ``FAILURE_WINDOW`` seconds, every request from it is answered 429 (right token
  or not, so guessing gains nothing) until the window has passed.
- A lent voice is spoken by a cloning TTS server the server sends the lender's recording to:
  only the servers an admin named (``--clone-backend URL``), never a URL a user chose, so no
  user can make the server call an address of their choice (an internal service, say).
"""

from __future__ import annotations

import collections
import hmac
import ipaddress
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sayso.errors import AccessDenied, AdminOnly, BadRequest, ConfigError, TooFast

LOCAL_USER = "local"
"""The user of a loopback server without tokens."""

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""The OpenAI audio API's own limit."""

MAX_FAILURES = 20
FAILURE_WINDOW = 60.0
MAX_CLIENTS = 10_000

_USER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ServerOptions:
    """How the server is exposed; ``tokens`` maps each token to its user id."""

    host: str = "127.0.0.1"
    port: int = 8765
    tokens: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    extra_origins: tuple[str, ...] = ()
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    admins: frozenset[str] = frozenset()
    clone_backends: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not is_loopback(self.host) and not self.tokens:
            raise ConfigError(
                f"Serving on {self.host} would let anyone on the network use Sayso; "
                "give a token with --token USER:TOKEN, or serve on 127.0.0.1."
            )
        if self.max_upload_bytes <= 0:
            raise ConfigError("The upload limit must be above zero.")
        tokenless = sorted(self.admins - set(self.tokens.values()))
        if tokenless:
            user = tokenless[0]
            raise ConfigError(f"An admin needs a token: give --token {user}:TOKEN, or drop --admin {user}.")

    @property
    def origins(self) -> frozenset[str]:
        """The origins the page is served from (and the extra ones allowed)."""
        names = _LOOPBACK_NAMES if is_loopback(self.host) else (_host_name(self.host),)
        return frozenset({f"http://{name}:{self.port}" for name in names} | set(self.extra_origins))

    def user_for(self, token: str | None) -> str:
        """The user a request acts for; AccessDenied for a missing or wrong token."""
        if not self.tokens:
            return LOCAL_USER
        if not token:
            raise AccessDenied("This server needs a token: send 'Authorization: Bearer TOKEN' (or ?token=TOKEN).")
        for known, user in self.tokens.items():
            # Constant time, so a wrong token's timing does not reveal a right one's prefix.
            if hmac.compare_digest(known.encode(), token.encode()):
                return user
        raise AccessDenied("That token is not valid on this server; check it and try again.")

    def clone_backend(self, url: str) -> str:
        """``url`` if an admin allowed it as a cloning backend; BadRequest otherwise."""
        wanted = url.strip().rstrip("/")
        if wanted in (allowed.rstrip("/") for allowed in self.clone_backends):
            return wanted
        if not self.clone_backends:
            raise BadRequest(
                "This server lends voices to no cloning TTS server; its admin names one with --clone-backend URL."
            )
        raise BadRequest(
            f"{wanted[:100]!r} is not a cloning TTS server this server's admin allows; "
            f"use one of: {', '.join(self.clone_backends)}."
        )

    def is_admin(self, user: str) -> bool:
        """Whether ``user`` is one of the server's admins."""
        return user in self.admins

    def check_admin(self, user: str) -> None:
        """AdminOnly unless ``user`` is one of the server's admins."""
        if not self.admins:
            raise AdminOnly(
                "This server has no admin, so admin operations are off; serve with --token USER:TOKEN --admin USER."
            )
        if not self.is_admin(user):
            raise AdminOnly(f"Only this server's admins may do that, and {user!r} is not one.")

    def check_origin(self, origin: str | None, host_header: str | None) -> None:
        """AccessDenied when a browser page from another site sent the request.

        On loopback only the fixed loopback origins pass: trusting the Host header there would let
        a site that rebinds its DNS name to 127.0.0.1 pass as the page. Elsewhere tokens guard
        every request, and the page's origin is whatever name the machine was reached by.
        """
        if origin is None or origin in self.origins:
            return
        if not is_loopback(self.host) and host_header and origin in (f"http://{host_header}", f"https://{host_header}"):
            return
        raise AccessDenied(f"Requests from pages at {origin} are not allowed; open Sayso's own page.")

    def check_host(self, host_header: str | None) -> None:
        """On loopback, AccessDenied unless the request names a loopback host (DNS rebinding)."""
        if not is_loopback(self.host):
            return
        name = (host_header or "").rsplit(":", 1)[0] if not (host_header or "").endswith("]") else host_header
        if name not in _LOOPBACK_NAMES:
            raise AccessDenied(f"This server only answers to {self.host}; open http://{self.host}:{self.port}/.")


class FailedAuth:
    """Failed token checks by client address, in a sliding window (see the module docstring)."""

    def __init__(
        self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()  # handlers run in worker threads

    def user(self, options: ServerOptions, client: str, token: str | None) -> str:
        """``options.user_for(token)``, unless ``client`` failed too often (TooFast); a failure is counted."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) >= self.limit:
                wait = recent[0] + self.window - self.clock()
                raise TooFast(f"Too many wrong tokens from your address; wait {wait:.0f} s, then check your token.")
        try:
            return options.user_for(token)
        except AccessDenied:
            with self._lock:
                self._failures[client] = self._recent(client)
                self._failures[client].append(self.clock())
                if len(self._failures) > MAX_CLIENTS:  # many addresses: forget those with no recent failure
                    for other in list(self._failures):
                        self._recent(other)
            raise

    def _recent(self, client: str) -> collections.deque[float]:
        """``client``'s failures within the window (an address with none is forgotten)."""
        recent = self._failures.get(client, collections.deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        if not recent:
            self._failures.pop(client, None)
        return recent


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_tokens(specs: list[str]) -> dict[str, str]:
    """``USER:TOKEN`` strings as a token-to-user map; ConfigError for a bad or repeated one."""
    tokens: dict[str, str] = {}
    for spec in specs:
        user, _, token = spec.partition(":")
        if not _USER.match(user) or len(token) < 16:
            raise ConfigError(
                f"A token must look like USER:TOKEN, with a user name of letters, digits, '_', '.' or '-' "
                f"and a token of at least 16 characters (got {spec.split(':')[0]!r}:...)."
            )
        if token in tokens:
            raise ConfigError(f"The same token is given to both {tokens[token]!r} and {user!r}; give each its own.")
        tokens[token] = user
    return tokens


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _host_name(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
