"""The API's security rules: where it may listen, the token, and the Origin allow-list.

* **Bind**: loopback (127.0.0.0/8, ::1, ``localhost``) by default; any other ``api.host``
  needs a strong ``api.token`` (:func:`check_bind`), else the server refuses to start.
* **Token**: every mutating route and the WebSocket need it; compared in constant time
  (:func:`hmac.compare_digest`). HTTP: ``Authorization: Bearer TOKEN``. WebSocket (browsers
  cannot set headers on it): the subprotocol list ``["sixbtc", "token.TOKEN"]`` (never the
  URL, which access logs record). Missing: 401; wrong: 403.
* **Origin**: a request that carries an ``Origin`` header (every browser ``POST`` and
  WebSocket) must come from an allowed origin (:func:`allowed_origins`), else 403 — a page
  of another site can neither act nor subscribe, even with a stolen token it cannot send.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
import secrets
from collections import Counter

from sixbtc.core.errors import ConfigError

#: Shortest token accepted on a non-loopback address (characters).
MIN_TOKEN_CHARS = 32
#: Smallest estimated entropy of such a token (bits, :func:`token_bits`).
MIN_TOKEN_BITS = 128
#: Fewest distinct characters of such a token (refuses ``"a" * 40`` and the like).
MIN_DISTINCT_CHARS = 12
#: WebSocket subprotocol the server selects; the token travels as ``token.<TOKEN>``.
WS_PROTOCOL = "sixbtc"
WS_TOKEN_PREFIX = "token."


def is_loopback(host: str) -> bool:
    """True when ``host`` is ``localhost`` or a loopback IP address."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_bits(token: str) -> float:
    """Estimated entropy (bits) of ``token``: its length × the Shannon entropy of its character
    frequencies (bits per character). A random URL-safe token of 43 characters gives about 220;
    repeated or padded strings give far less than their length suggests."""
    if not token:
        return 0.0
    n = len(token)
    per_char = -sum((k / n) * math.log2(k / n) for k in Counter(token).values())
    return n * per_char


def token_weakness(token: str) -> str | None:
    """Why ``token`` is too weak for a non-loopback address, or None when it is strong."""
    if len(token) < MIN_TOKEN_CHARS:
        return f"it has {len(token)} characters, fewer than {MIN_TOKEN_CHARS}"
    if len(set(token)) < MIN_DISTINCT_CHARS:
        return f"it has {len(set(token))} distinct characters, fewer than {MIN_DISTINCT_CHARS}"
    if token_bits(token) < MIN_TOKEN_BITS:
        return f"its estimated entropy is {token_bits(token):.0f} bits, below {MIN_TOKEN_BITS}"
    return None


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen on a non-loopback ``host`` without a strong token.

    Raises
    ------
    ConfigError
        Naming ``api.token`` (missing or weak) for a non-loopback ``api.host``.
    """
    if is_loopback(host):
        return
    if not token:
        raise ConfigError(f"api.token: required when api.host is {host!r} (not a loopback address); set "
                          f"SIXBTC__API__TOKEN to a random string of at least {MIN_TOKEN_CHARS} characters")
    why = token_weakness(token)
    if why is not None:
        raise ConfigError(f"api.token: too weak for api.host {host!r} (not a loopback address): {why}; use e.g. "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")


def new_token() -> str:
    """A random token (32 bytes, URL-safe base64: 43 characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def allowed_origins(host: str, port: int, extra: list[str]) -> frozenset[str]:
    """The server's own origins (127.0.0.1, localhost and ``host`` on ``port``, http) plus ``extra``
    (normalised: lower case, no trailing slash)."""
    own = {f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://{host}:{port}", f"http://[::1]:{port}"}
    return frozenset(o.rstrip("/").lower() for o in (*own, *extra))


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """True when there is no Origin header (not a browser) or it is in ``allowed``."""
    return origin is None or origin.rstrip("/").lower() in allowed


def ws_token(protocols: list[str]) -> str | None:
    """The token among the WebSocket subprotocols offered (``token.<TOKEN>``), or None."""
    for p in protocols:
        if p.startswith(WS_TOKEN_PREFIX):
            return p[len(WS_TOKEN_PREFIX):]
    return None
