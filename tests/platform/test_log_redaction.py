"""Runs last: no password, token, API key or e-mail any test handled reached a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from shared.logging import LOGGED_STRING_LIMIT, JsonFormatter, redact
from tests.conftest import LOG_CAPTURE
from tests.support.secrets import SECRETS_SEEN


def test_redaction_patterns():
    line = 'login email=ada@example.com password="hunter2hunter2" Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig key sak_ab12cd34_xyzxyzxyzxyz'
    cleaned = redact(line)
    for secret in (
        "ada@example.com",
        "hunter2hunter2",
        "eyJhbGciOi.eyJzdWIi.sig",
        "sak_ab12cd34_xyzxyzxyzxyz",
    ):
        assert secret not in cleaned


@pytest.mark.log_audit
def test_a_long_variable_is_shortened_in_the_log_line_and_still_redacted():
    record = logging.LogRecord("shared.operations", logging.INFO, "p", 1, "graphql operation", None, None)
    record.variables = {"i": {"value": "x" * 70_000 + " reach me at ada@example.com", "n": 1}}
    line = json.loads(JsonFormatter().format(record))
    logged = line["variables"]["i"]["value"]
    assert logged.startswith("x" * LOGGED_STRING_LIMIT) and logged.endswith("more characters]")
    assert len(logged) < LOGGED_STRING_LIMIT + 50 and line["variables"]["i"]["n"] == 1
    assert redact("x" * 70_000 + " ada@example.com") == "x" * 70_000 + " [REDACTED]"


def test_no_secret_reached_any_log_line():
    for handler in logging.getLogger().handlers:
        handler.flush()
    captured = Path(LOG_CAPTURE).read_text()
    router_logs = "".join(
        path.read_text(errors="replace") for path in Path("/tmp").glob("spotify-agent-router-*.log")
    )
    assert len(SECRETS_SEEN) > 20, "the suite should have handled secrets"
    assert captured, "the suite should have written log lines"
    leaked = sorted(secret for secret in SECRETS_SEEN if secret in captured or secret in router_logs)
    assert leaked == [], f"{len(leaked)} secrets leaked, e.g. {[item[:12] for item in leaked[:5]]}"


def test_a_variable_bound_to_a_secret_field_is_redacted_whatever_its_name():
    from graphql import parse

    from shared.logging import logged_variables

    query = """mutation($e: String!, $p: String!, $deep: String, $n: Int) {
      logIn(input: {email: $e, password: $p}) { accessToken }
      other(input: {nested: {refreshToken: $deep}}, first: $n) { id }
    }"""
    variables = {"e": "ada@example.com", "p": "hunter2hunter2", "deep": "srt_x", "n": 3}
    logged = logged_variables(query, parse(query), variables)
    assert logged == {"e": "ada@example.com", "p": "[REDACTED]", "deep": "[REDACTED]", "n": 3}
    assert logged_variables(query, parse(query), None) is None
