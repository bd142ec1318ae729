"""Password scrubbing: every password revisor sees is registered here so that the CLI can
remove it from any text it prints, tracebacks included.

Kept free of SQLAlchemy so that the CLI can install redaction without paying for it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_SECRETS: set[str] = set()

# URL-shaped credentials in free text, e.g. inside a driver's error message; also the
# malformed `postgresql//user:pw@host` (the colon after the scheme forgotten).
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*:?//[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")
# libpq also reads the password from the query string: `...?sslmode=require&password=pw`.
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&\s'\"]*)")
# The scheme of a URL that may be malformed: `postgresql://`, `postgresql//`, `postgresql:`.
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*(?::/{0,2}|/{1,2})")


def register_secret(secret: str | None) -> None:
    """Remember a password so that `redact` removes it from any later output.

    Passwords under four characters are not scrubbed from free text (that would mangle
    ordinary words); URL-shaped credentials are masked whatever their length."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)


def mask_url_passwords(text: str) -> str:
    """Return `text` with the password of every URL-shaped credential (`user:PW@`, and
    `?password=PW`) replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + "***", text)
    return _QUERY_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def mask_malformed_url(text: str) -> str:
    """`text`, a database URL that may not parse, fit to print: everything between the
    user name and the last `@` is replaced by *** (all of it when no user name can be told
    apart), and so is a `?password=`. The passwords found are registered, so that `redact`
    also removes them from whatever a driver or env.py prints later.

    Errs on the side of hiding: a password with `/`, `:` or `@` in it is hidden whole."""
    head, at, tail = text.rpartition("@")
    for match in _QUERY_PASSWORD.finditer(text):
        _register_both(match.group("pw"))
    if not at:
        return mask_url_passwords(text)
    scheme = _SCHEME.match(head)
    start = scheme.end() if scheme else 0
    user, colon, password = head[start:].partition(":")
    if colon:
        _register_both(password)
        credentials = f"{user}:***"
    else:
        credentials = "***"  # no user name to tell apart
        if scheme and not scheme.group().endswith("/"):  # `USER:PASSWORD@host`, no scheme
            _register_both(user)
    return head[:start] + credentials + at + mask_url_passwords(tail)


def _register_both(secret: str) -> None:
    """Register a password as written in the URL and percent-decoded."""
    register_secret(secret)
    register_secret(unquote(secret))


def redact(text: str) -> str:
    """Return `text` with every registered password and every URL password replaced by ***."""
    text = mask_url_passwords(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
