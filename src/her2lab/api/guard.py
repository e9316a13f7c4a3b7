"""What every request passes before the application sees it: the server's own host names, its
access token, the body size limit, and the security headers on every response.

:class:`Guard` is plain ASGI middleware, in this order:

1. **Host** (DNS rebinding): the ``Host`` header must name one of the hosts the server was
   started for (:data:`LOOPBACK_HOSTS` by default, more with ``her2lab serve --allowed-host``);
   otherwise 400 ``HostNotAllowed``. A page on another site that rebinds its name to 127.0.0.1
   sends its own name as ``Host`` and is refused.
2. **Token** (optional, ``her2lab serve --token``, generated when ``--host`` is not loopback):
   every request carries it as ``Authorization: Bearer TOKEN``, as the header
   ``X-Her2lab-Token``, as the cookie :data:`TOKEN_COOKIE`, or, on a GET, as ``?token=TOKEN``.
   A page opened with ``?token=`` is answered with a redirect to the same address without it
   and sets the cookie (HttpOnly, SameSite=Strict), so the browser's own requests (the UI's
   ``fetch`` calls, plotly.js, the report frame, a PDF download) carry it from then on.
   Otherwise 401 ``Unauthorized``.
3. **Body size**: a body is at most ``max_body`` bytes. A ``Content-Length`` over it is refused
   at once; a body without one (``Transfer-Encoding: chunked``) is counted as it arrives and
   refused with 413 ``TooLarge`` as soon as it passes the limit, without reading the rest.
4. **HEAD** is answered as GET without the body.
5. **Headers** on every response that does not set its own: a Content-Security-Policy that
   names no other origin, ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (with
   ``frame-ancestors 'none'``) and ``Referrer-Policy: no-referrer``. A strategy report's HTML
   (``/api/reports/{id}/html``) is sandboxed by its CSP (no scripts, no forms, an opaque
   origin) and may be framed only by this server's own pages.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "CSP",
    "LOOPBACK_HOSTS",
    "REPORT_CSP",
    "TOKEN_COOKIE",
    "Guard",
    "is_loopback",
    "new_token",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names accepted by default: the loopback names."""

TOKEN_COOKIE = "her2lab_token"
TOKEN_HEADER = "x-her2lab-token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-src 'self'; frame-ancestors 'none'")
"""Every page: only this server's own scripts, styles, images and frames. Inline styles stay
allowed (plotly.js writes its own ``<style>`` elements); inline scripts do not."""

DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
"""``/docs`` and ``/redoc``: their pages start Swagger UI and ReDoc with an inline script (the
page has no user content); still no other origin."""

REPORT_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'")
"""A strategy report's HTML: sandboxed (no script runs, no form submits, an opaque origin), its
own inline styles and embedded images only, framed only by this server's pages."""

_REPORT_HTML = re.compile(r"^/api/reports/[^/]+/html$")
_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def new_token() -> str:
    """A fresh access token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name to listen on) is reachable only from this machine."""
    h = host.strip().lower().strip("[]")
    return h in LOOPBACK_HOSTS or h.startswith("127.")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without port, brackets or trailing dot, lowercased."""
    h = header.strip().lower()
    if h.startswith("["):
        h = h[1:].partition("]")[0]
    elif h.count(":") == 1:
        h = h.partition(":")[0]
    return h.rstrip(".")


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lowercase name; repeated ones joined (cookies with ``;``)."""
    out: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        key, val = k.decode("latin-1").lower(), v.decode("latin-1")
        out[key] = f"{out[key]}{'; ' if key == 'cookie' else ', '}{val}" if key in out else val
    return out


async def _error(send: Send, status: int, error: str, message: str,
                 headers: Iterable[tuple[str, str]] = ()) -> None:
    body = json.dumps({"error": error, "message": message, "problems": [],
                       "valid": None}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *_security_headers(CSP),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers)]})
    await send({"type": "http.response.body", "body": body})


def _security_headers(csp: str, frame: str = "DENY") -> list[tuple[bytes, bytes]]:
    return [(b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", frame.encode()),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin")]


class Guard:
    """ASGI middleware: host allow-list, optional token, body limit, HEAD, security headers."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, allowed_hosts: Iterable[str],
                 token: str | None, max_body: int) -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed_hosts)
        self.token = token or None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = host_name(headers.get("host", ""))
        if host not in self.allowed:
            await _error(send, 400, "HostNotAllowed",
                         f"this server answers to {', '.join(sorted(self.allowed))}; got Host "
                         f"{headers.get('host', '')!r} (start it with --allowed-host NAME to "
                         "add a name)")
            return
        if self.token is not None:
            redirect = await self._check_token(scope, headers, send)
            if redirect is not False:
                return
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit()
                                   or int(length) > self.max_body):
            await _error(send, 413, "TooLarge", f"a request body is at most {self.max_body} "
                         f"bytes; got Content-Length {length}")
            return
        body = bytearray()
        while True:  # read the body here, counting, so no route ever reads an oversized one
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _error(send, 413, "TooLarge", f"a request body is at most "
                             f"{self.max_body} bytes; got more")
                return
            if not message.get("more_body", False):
                break
        await self._forward(scope, bytes(body), receive, send)

    async def _check_token(self, scope: Scope, headers: dict[str, str], send: Send) -> Any:
        """``False`` when the request carries the token; otherwise the response is sent."""
        token = self.token
        assert token is not None
        given: list[str] = []
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given.append(auth[7:].strip())
        if TOKEN_HEADER in headers:
            given.append(headers[TOKEN_HEADER].strip())
        if "cookie" in headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(headers["cookie"])
            except Exception:  # a malformed cookie header is no token
                jar = SimpleCookie()
            if TOKEN_COOKIE in jar:
                given.append(jar[TOKEN_COOKIE].value)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True)
        in_query = [v for k, v in query if k == "token"]
        if scope["method"] in ("GET", "HEAD"):
            given.extend(in_query)
        if not any(secrets.compare_digest(g.encode(), token.encode()) for g in given):
            await _error(send, 401, "Unauthorized",
                         "this server needs its access token: open the address it printed "
                         "when it started (ending in ?token=...), or send the header "
                         "'Authorization: Bearer TOKEN'", [("www-authenticate", "Bearer")])
            return None
        if in_query and not scope["path"].startswith("/api/"):
            # a page opened with ?token=: set the cookie and drop the token from the address
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode()),
                (b"content-length", b"0"), (b"cache-control", b"no-store"),
                *_security_headers(CSP)]})
            await send({"type": "http.response.body", "body": b""})
            return None
        return False

    async def _forward(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        path = scope["path"]
        if _REPORT_HTML.match(path):
            extra = _security_headers(REPORT_CSP, "SAMEORIGIN")
        else:
            extra = _security_headers(DOCS_CSP if path in _DOCS else CSP)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", ())}
                message = {**message, "headers": [
                    *message.get("headers", ()), *(h for h in extra if h[0] not in have)]}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, replay, send_with_headers)
