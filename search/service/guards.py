"""What every response carries and every request may not exceed: security headers, and
a cap on request bodies. Plain ASGI middleware, so they cost nothing per route."""

from __future__ import annotations

import json

#: Largest request body accepted, in bytes.
MAX_BODY = 64 * 1024

#: The page loads its own style and script only; nothing inline runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class _HttpMiddleware:
    """ASGI middleware that looks at HTTP requests only (lifespan events pass through)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        raise NotImplementedError


class SecurityHeaders(_HttpMiddleware):
    async def handle(self, scope, receive, send) -> None:
        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _HEADERS
            await send(message)

        await self.app(scope, receive, sending)


class BodyLimit(_HttpMiddleware):
    """Refuses a body over :data:`MAX_BODY` with 413, by its declared length or as it arrives."""

    async def handle(self, scope, receive, send) -> None:
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await _too_large(send)
            return
        seen = 0

        async def receiving():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        try:
            await self.app(scope, receiving, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send) -> None:
    body = json.dumps({"error": {"code": "body_too_large", "message": f"the request body is over {MAX_BODY:,} bytes"}})
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")] + _HEADERS})
    await send({"type": "http.response.body", "body": body.encode()})
