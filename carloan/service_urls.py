"""Small helpers on the service URLs of the environment (DATABASE_URL), for the runner, the
commands and the tests: no Django settings needed."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def database_url_with_name(url: str, name: str) -> str:
    """`url` naming the database `name` instead, every other part and option kept as written
    (several hosts, a socket directory as `?host=`, `sslmode`, `application_name`...)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "dbname" for key, _ in query):
        query = [(key, name if key == "dbname" else value) for key, value in query]
        return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
