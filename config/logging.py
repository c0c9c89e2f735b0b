"""structlog set-up: pretty in a terminal, JSON elsewhere; context (invoice, customer, workflow)
travels in contextvars so every line of a unit of work carries it. Secrets never reach a line:
every value passes through :func:`redact` just before it is rendered."""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import BaseModel, SecretBytes, SecretStr
from structlog.typing import EventDict

MASK = "***"

# A field is secret by its name, at any depth: "twilio_auth_token", "Authorization",
# "set-cookie", "sendgrid_api_key", "payment_webhook_secrets", "password". A bare "key"
# counts only as key material (api_key, private_key, ...): idempotency_key and event_key are
# what an operator searches the logs by, and they are not secret.
_SECRET_NAME = re.compile(
    r"password|passwd|secret|token|authori[sz]ation|cookie|credential"
    r"|(?:^|_)(?:api|private|secret|access|signing|encryption|client|session|master|auth)_?keys?$"
    r"|^keys?$",
    re.IGNORECASE,
)

# Secrets inside free text: an exception message, a stdlib log line, a logged header string.
_SECRET_IN_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    # Our API keys, dk_<id>_<secret>: the id stays, so the line still says which key it was.
    (re.compile(r"\b(dk_[A-Za-z0-9]+_)[A-Za-z0-9_\-]+"), rf"\g<1>{MASK}"),
    # Authorization header values. "Basic" only capitalised, as in the header: "basic" is a word.
    (re.compile(r"\b([Bb]earer|BEARER|Basic)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {MASK}"),
    # The password of a URL: postgresql+psycopg://dunning:PASSWORD@db:5432/dunning.
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\g<1>{MASK}@"),
    # Secrets in a query string: ?token=..., &api_key=..., &signature=...
    (
        re.compile(
            r"([?&](?:token|access_token|api_key|apikey|key|signature|sig|secret|password)=)"
            r"[^&\s#\"']+",
            re.IGNORECASE,
        ),
        rf"\g<1>{MASK}",
    ),
)

_MAX_DEPTH = 12
# The console renderer needs the exception tuple as it is; its text is a developer's terminal.
_RENDERER_OWNED = frozenset({"exc_info"})


def is_secret_name(name: object) -> bool:
    return isinstance(name, str) and _SECRET_NAME.search(name.replace("-", "_")) is not None


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, depth: int = 0) -> Any:
    """``value`` with every secret masked: SecretStr anywhere, fields with a secret's name at
    any depth, API keys / bearer tokens / URL passwords inside strings. A pydantic model (the
    Settings object, a request schema) is rendered as its fields, its secrets masked."""
    if depth > _MAX_DEPTH:
        return MASK  # deeper than any real event: a cycle, or not worth the risk
    if isinstance(value, SecretStr | SecretBytes):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, BaseModel):
        # mode="json" already prints SecretStr as asterisks; the name rules catch the rest
        # (database_url is a plain str that carries a password).
        return redact(value.model_dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact(dataclasses.asdict(value), depth + 1)
    if isinstance(value, Mapping):
        return {
            key: MASK if is_secret_name(key) else redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item, depth + 1) for item in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    return value


def redact_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    """structlog processor: the last one before the renderer, after exceptions are formatted,
    so a traceback that quotes a key is masked too."""
    return {
        key: value if key in _RENDERER_OWNED else MASK if is_secret_name(key) else redact(value)
        for key, value in event.items()
    }


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was set up: a
    command run inside another program (a test's CLI runner) swaps it and closes its own."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # The console renderer prints a traceback itself (set_exc_info), after redaction: it is
    # for a developer's terminal. JSON, what production ships, formats it first.
    exceptions = structlog.processors.format_exc_info if use_json else structlog.dev.set_exc_info
    structlog.configure(
        processors=[*shared, exceptions, redact_secrets, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    # Temporal's and the providers' stdlib loggers go through the same redaction and renderer.
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                exceptions,
                redact_secrets,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("twilio.http_client", "httpx", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
