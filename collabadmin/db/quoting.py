"""SQL text for names and values in DDL, where no parameter can stand.

As PostgreSQL's quote_ident and quote_literal do, for statements built in Python.
"""

from __future__ import annotations

__all__ = ["quote_ident", "quote_literal"]


def quote_ident(name: str) -> str:
    """A name, always double-quoted (so case and any character survive)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string constant (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + value.replace("'", "''") + "'"
