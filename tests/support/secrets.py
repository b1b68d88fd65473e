"""Every password, token, key and e-mail a test handled: none may appear in a log line."""

SECRETS_SEEN: set[str] = set()


def remember_secret(*values: str | None) -> None:
    SECRETS_SEEN.update(value for value in values if value)
