"""Structured JSON logs; every line passes a redaction step before it is written."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from shared.telemetry import TraceIdFilter

_REDACTED = "[REDACTED]"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # JWTs (three base64url segments)
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), _REDACTED),
    # Bearer credentials, API keys and refresh tokens of this platform
    (re.compile(r"(?i)bearer\s+[\w.~+/=-]+"), "Bearer " + _REDACTED),
    (re.compile(r"\bsak_[A-Za-z0-9_-]{8,}"), _REDACTED),
    (re.compile(r"\bsrt_[A-Za-z0-9_-]{8,}"), _REDACTED),
    (re.compile(r"\binv_[A-Za-z0-9_-]{8,}"), _REDACTED),
    # e-mail addresses; the look-behind starts a match only where a run of address characters
    # starts (without it a long run, e.g. 70 kB of text, costs a rescan per character)
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), _REDACTED),
    # key=value / "key": "value" pairs whose key names a secret
    (
        re.compile(
            r"(?i)(\"?(?:password|passwd|secret|token|api[_-]?key|authorization|refresh[_-]?token|"
            r"access[_-]?token|client[_-]?secret|code[_-]?verifier|(?:x-amz-)?signature|x-amz-credential|"
            r"x-amz-security-token)\"?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,}&]+)"
        ),
        r"\1" + '"' + _REDACTED + '"',
    ),
]

SECRET_KEYS = re.compile(r"(?i)password|secret|token|api_?key|authorization|code_?verifier|credential|code$")


# Every pattern above needs one of these (lower-cased) in the text: a line without any of them
# (most lines) is returned after one scan instead of seven regex passes.
_MARKERS = (
    "eyj", "bearer", "sak_", "srt_", "inv_", "@", "password", "passwd", "secret", "token", "api",
    "authorization", "verifier", "signature", "credential",
)  # fmt: skip


def redact(text: str) -> str:
    lowered = text.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


LOGGED_STRING_LIMIT = 2_000
"""A log line shows at most this much of one string value (a variable holding a document)."""


def redact_mapping(value: Any, limit: int | None = None, *, strings: bool = True) -> Any:
    """Redact secrets in structured data (audit inputs, log extras): values under a secret's
    key, and (`strings`) secrets inside string values. `limit` shortens long strings (log
    lines: one operation's variables may hold a whole project). A log line passes `redact`
    as a whole afterwards and so skips the per-string pass."""
    if isinstance(value, dict):
        return {
            key: _REDACTED if SECRET_KEYS.search(str(key)) else redact_mapping(item, limit, strings=strings)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_mapping(item, limit, strings=strings) for item in value]
    if isinstance(value, str):
        if limit is not None and len(value) > limit:
            value = f"{value[:limit]}…[{len(value) - limit} more characters]"
        return redact(value) if strings else value
    return value


def _secret_variables(document: Any) -> frozenset[str]:
    from graphql import ArgumentNode, ObjectFieldNode, VariableNode, visit
    from graphql.language import Visitor

    found: set[str] = set()

    class Bindings(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            self._bind(node.name.value, node.value)

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            self._bind(node.name.value, node.value)

        def _bind(self, name: str, value: Any) -> None:
            if isinstance(value, VariableNode) and SECRET_KEYS.search(name):
                found.add(value.name.value)

    visit(document, Bindings())
    return frozenset(found)


_secret_variables_of: dict[str, frozenset[str]] = {}


def logged_variables(query: str | None, document: Any, variables: dict[str, Any] | None) -> Any:
    """An operation's variables as they may be logged. Clients name variables as they like
    (`logIn(input: {password: $p})`): a variable bound to an argument or input field whose
    name is a secret's is redacted by that binding, whatever it is called; inside variables
    that hold whole inputs, keys do the same (`redact_mapping`)."""
    if not variables:
        return variables
    secret = _secret_variables_of.get(query or "")
    if secret is None:
        secret = _secret_variables(document) if document is not None else frozenset()
        if len(_secret_variables_of) > 1000:
            _secret_variables_of.clear()
        _secret_variables_of[query or ""] = secret
    return {name: _REDACTED if name in secret else value for name, value in variables.items()}


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        structured = redact_mapping(payload, LOGGED_STRING_LIMIT, strings=False)
        return redact(orjson.dumps(structured, default=str, option=orjson.OPT_NON_STR_KEYS).decode())


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactionFilter(logging.Filter):
    """For handlers we do not own (pytest's capture, uvicorn's): scrub message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else RedactingFormatter("%(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(RedactionFilter())
    handler.addFilter(TraceIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # One line per GraphQL operation is ours (shared.schema.OperationLog); uvicorn's line per
    # request on top would double the logging cost of every request.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for chatty in ("httpx", "httpcore", "aiosqlite", "asyncio"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
