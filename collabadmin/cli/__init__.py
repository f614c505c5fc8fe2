"""The ``collabadmin`` command, one module per command group.

``serve`` (demo, serve, init, openapi), ``db`` (upgrade, track, untrack),
``audit`` (verify, prune) and ``users`` (user create) each add their own
parsers; :mod:`~collabadmin.cli.common` holds what they share and
:mod:`~collabadmin.cli.main` puts them together.
"""

from collabadmin.cli.main import main

__all__ = ["main"]
