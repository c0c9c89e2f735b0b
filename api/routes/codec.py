"""The codec server: the Temporal UI (and ``temporal workflow show --codec-endpoint``) sends
the encrypted payloads it shows to ``POST /codec/decode`` and gets them back readable.

Who may: operations and admins, signed in to the workspace (the browser sends the session
cookie when the UI's codec setting "Include cross-origin credentials" is on; the UI and the
API must then be on the same site, e.g. ui.example.com and api.example.com) or presenting an
API key (``--codec-auth 'Bearer <key>'``). The UI's origin must be listed in
``DUNNING_CODEC_SERVER_CORS_ORIGINS``. The protocol is Temporal's: a JSON ``Payloads`` message,
``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``, in and out.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.api.common.v1 import Payload

from api.codec import EncryptionCodec, PayloadDecryptionError, codec_for
from api.context import AppContext, Context, problem, require
from api.schemas import Problem
from api.web.session import NotAllowed, SignInRequired, session_user, signed_in
from config.settings import Settings

router = APIRouter(prefix="/codec", tags=["operations"])
log = structlog.get_logger()

ROLES = ("ops",)  # admin always may
_ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization, X-API-Key"


class PayloadJson(BaseModel):
    model_config = ConfigDict(extra="allow")

    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata values, base64 (e.g. `encoding`)."
    )
    data: str = Field(default="", description="The payload's bytes, base64.")


class PayloadsJson(BaseModel):
    payloads: list[PayloadJson] = Field(default_factory=list)


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A payload is not valid, or cannot be decrypted."},
    401: {"model": Problem, "description": "Neither a workspace sign-in nor an API key."},
    403: {"model": Problem, "description": "The role may not read payloads (ops, admin)."},
    422: {"model": Problem, "description": "The body is not a Payloads message."},
}


def allowed_origins(settings: Settings) -> frozenset[str]:
    origins = settings.codec_server_cors_origins.split(",")
    return frozenset(origin.strip().rstrip("/") for origin in origins if origin.strip())


def cors_headers(request: Request, settings: Settings) -> dict[str, str]:
    """Credentials are allowed, so the origin is echoed only when listed, never ``*``."""
    origin = request.headers.get("origin")
    if origin is None or origin not in allowed_origins(settings):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


@router.options("/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request, context: Context) -> Response:
    headers = cors_headers(request, context.settings)
    if operation not in {"encode", "decode"} or not headers:
        return Response(status_code=status.HTTP_403_FORBIDDEN)
    headers |= {
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": _ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.post("/encode", response_model=PayloadsJson, responses=ERRORS)
async def encode(body: PayloadsJson, request: Request, context: Context) -> Response:
    """Encrypt payloads with the current key (what the UI sends when it signals a workflow).
    The `X-Namespace` header is accepted; one set of keys serves every namespace."""
    return await _answer(body, request, context, lambda codec, p: codec.encrypt(p))


@router.post("/decode", response_model=PayloadsJson, responses=ERRORS)
async def decode(body: PayloadsJson, request: Request, context: Context) -> Response:
    """Decrypt payloads; those that are not encrypted come back as they were."""
    return await _answer(body, request, context, lambda codec, p: codec.decrypt(p))


async def _answer(
    body: PayloadsJson,
    request: Request,
    context: AppContext,
    transform: Callable[[EncryptionCodec, Payload], Payload],
) -> Response:
    cors = cors_headers(request, context.settings)
    try:
        reader = await _authorise(request, context)
        payloads = _parse(body)
        codec = _codec(request, context.settings)
        try:
            answer = [transform(codec, payload) for payload in payloads]
        except PayloadDecryptionError as error:
            raise problem(status.HTTP_400_BAD_REQUEST, "payloads", str(error)) from error
    except HTTPException as error:
        # The UI reads the status only when the CORS headers are on the error too.
        error.headers = {**(error.headers or {}), **cors}
        raise
    # Who saw decrypted payloads, and of which namespace: never what they held.
    log.info(
        "codec server used",
        operation=request.url.path.rsplit("/", 1)[-1],
        by=reader,
        namespace=request.headers.get("x-namespace"),
        payloads=len(answer),
    )
    return JSONResponse(_as_json(answer), headers=cors)


def _parse(body: PayloadsJson) -> list[Payload]:
    try:
        return [
            Payload(
                metadata={name: _bytes(value) for name, value in payload.metadata.items()},
                data=_bytes(payload.data),
            )
            for payload in body.payloads
        ]
    except ValueError as error:  # binascii.Error is one; so is a non-ASCII string
        raise problem(
            status.HTTP_400_BAD_REQUEST, "payloads", f"a payload field is not base64: {error}"
        ) from error


def _bytes(encoded: str) -> bytes:
    # Proto3 JSON writes standard base64 and reads URL-safe too, padding optional.
    normalized = encoded.replace("-", "+").replace("_", "/")
    return base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)


def _as_json(payloads: list[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {
                    name: base64.b64encode(value).decode("ascii")
                    for name, value in payload.metadata.items()
                },
                "data": base64.b64encode(payload.data).decode("ascii"),
            }
            for payload in payloads
        ]
    }


def _codec(request: Request, settings: Settings) -> EncryptionCodec:
    """One codec per application: the keys are read (and AES key schedules made) once."""
    codec: EncryptionCodec | None = getattr(request.app.state, "payload_codec", None)
    if codec is None:
        codec = codec_for(settings)
        request.app.state.payload_codec = codec
    return codec


async def _authorise(request: Request, context: AppContext) -> str:
    """Who reads: a signed-in ops or admin user, or an API key of those roles; else 401 or
    403."""
    signed_in_role_refused = False
    if session_user(request, context.settings) is not None:
        try:
            user = await signed_in(*ROLES)(request)
            return f"user {user.id}"
        except SignInRequired:
            pass  # expired, disabled or reset: as if not signed in
        except NotAllowed:
            signed_in_role_refused = True
    presents_key = "authorization" in request.headers or "x-api-key" in request.headers
    if signed_in_role_refused and not presents_key:
        raise problem(
            status.HTTP_403_FORBIDDEN,
            "authorization",
            "only operations and admins may read workflow payloads",
        )
    caller = await require(*ROLES)(request, context)
    return f"API key {caller.key_id}"
