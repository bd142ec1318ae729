"""Password scrubbing: every password revisor sees is registered here so that the CLI can
remove it from any text it prints, tracebacks included.

Kept free of SQLAlchemy so that the CLI can install redaction without paying for it.
"""

from __future__ import annotations

import re

_SECRETS: set[str] = set()

# URL-shaped credentials in free text, e.g. inside a driver's error message.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")


def register_secret(secret: str | None) -> None:
    """Remember a password so that `redact` removes it from any later output.

    Passwords under four characters are not scrubbed from free text (that would mangle
    ordinary words); URL-shaped credentials are masked whatever their length."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def mask_url_passwords(text: str) -> str:
    """Return `text` with the password of every URL-shaped credential replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def redact(text: str) -> str:
    """Return `text` with every registered password and every URL password replaced by ***."""
    text = mask_url_passwords(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
