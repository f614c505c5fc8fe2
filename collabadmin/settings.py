"""Typed settings, read once from the environment by :func:`Settings.from_env`.

Nothing reads the environment at import time: tests and embedding
applications build a :class:`Settings` directly and pass it to
``create_app``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def default_data_dir() -> Path:
    """Where the embedded PostgreSQL keeps its data when none is configured.

    As root the server runs as a dedicated system user, so the data lives in a
    system folder that user owns rather than under a home folder whose
    permissions would have to be loosened.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/collabadmin")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "collabadmin"


def default_password_concurrency() -> int:
    """Password checks at once: one per core, each argon2 hash using one core and 64 MiB."""
    return max(1, os.cpu_count() or 1)


def parse_networks(value: str | None) -> tuple[Network, ...]:
    """``"10.0.0.1, 10.1.0.0/16 ::1"`` as networks; a bad entry is a ValueError naming it."""
    networks = []
    for entry in (value or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {entry!r}") from None
    return tuple(networks)


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about a collabadmin server."""

    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    secure_cookies: bool = False
    session_ttl_seconds: int = 14 * 24 * 3600  # absolute: a session never outlives this
    session_idle_seconds: int = 8 * 3600  # a session unused for this long has ended
    session_purge_interval: float = 3600.0  # how often ended sessions are deleted
    socket_recheck_interval: float = 2.0  # open sockets' credentials re-checked this often
    max_body_bytes: int = 1024 * 1024
    import_max_bytes: int = 64 * 1024 * 1024  # an imported CSV or XLSX file; larger is a 413
    max_page_size: int = 500
    default_page_size: int = 50
    pool_size: int = 20
    debug: bool = False
    hub_wake: str = "notify"  # or "poll": no NOTIFY in the write path, read the log every few ms
    hub_poll_ms: int = 5
    ws_queue: int = 1000  # frames a socket may have waiting before it is told to resync
    presence_heartbeat: float = 10.0
    presence_expiry: float = 30.0  # a member not heard from for this long is gone
    draft_schedule_interval: float = 1.0  # how often due scheduled publishes are looked for
    # The restricted role the server works as (created by `db upgrade` when
    # unset: collabadmin_app_<database>); name an existing one on a managed
    # database whose owner cannot CREATE ROLE.
    app_role: str | None = None
    # /metrics answers only this bearer token (404 when unset); kept out of repr().
    metrics_token: str | None = field(default=None, repr=False)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (none: the
    # socket peer is the client). See collabadmin.auth.client_address.
    trusted_proxies: tuple[Network, ...] = ()
    # Password checks (argon2) running at once; a sign-in beyond that is a 429.
    password_concurrency: int = field(default_factory=default_password_concurrency)
    # Sign-in attempts (see collabadmin.auth.throttle): per account and address
    # pair and per address in 15 minutes; per account in an hour, beyond which
    # the account is slowed to one attempt every login_account_interval seconds.
    login_pair_limit: int = 5
    login_address_limit: int = 20
    login_account_limit: int = 100
    login_account_interval: float = 10.0
    # Broker mode (see docs/realtime.md, "Broker mode"): a nats:// URL (several
    # servers comma-separated) puts NATS JetStream between the instances; None
    # (the default) keeps every instance reading the change log itself.
    broker: str | None = field(default=None, repr=False)
    # The JetStream stream (and subject prefix) of this database's changes;
    # None: derived from the database's name.
    broker_stream: str | None = None
    broker_max_age: float = 24 * 3600.0  # how long the stream keeps a batch
    # Bulk edits (docs/bulk.md): rows per batch (one transaction, one statement
    # per set of changed columns), and keys done within the request (more, or
    # a filter, run as a job answered 202).
    bulk_batch_size: int = 500
    bulk_sync_max: int = 2000
    # Where this process's once-per-cluster background work runs (live view and
    # workflow evaluation, sealing the audit chain; docs/realtime.md, "Where
    # evaluation runs"): "here" (in this process, the default), "elsewhere"
    # (another process runs it: `serve` starts one next to its server
    # processes), or "only" (this process runs that work and serves nothing:
    # `collabadmin background`). Broker mode runs it on the leader whatever
    # this says.
    background: str = "here"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = env.get("COLLABADMIN_DATA_DIR")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(data_dir) if data_dir else default_data_dir(),
            secure_cookies=_flag(env.get("COLLABADMIN_SECURE_COOKIES"), False),
            session_ttl_seconds=int(env.get("COLLABADMIN_SESSION_TTL_SECONDS", 14 * 24 * 3600)),
            session_idle_seconds=int(env.get("COLLABADMIN_SESSION_IDLE_SECONDS", 8 * 3600)),
            max_body_bytes=int(env.get("COLLABADMIN_MAX_BODY_BYTES", 1024 * 1024)),
            import_max_bytes=int(env.get("COLLABADMIN_IMPORT_MAX_BYTES", 64 * 1024 * 1024)),
            pool_size=int(env.get("COLLABADMIN_POOL_SIZE", 20)),
            debug=_flag(env.get("COLLABADMIN_DEBUG"), False),
            hub_wake=env.get("COLLABADMIN_HUB_WAKE", "notify"),
            hub_poll_ms=int(env.get("COLLABADMIN_HUB_POLL_MS", 5)),
            ws_queue=int(env.get("COLLABADMIN_WS_QUEUE", 1000)),
            bulk_batch_size=max(1, int(env.get("COLLABADMIN_BULK_BATCH_SIZE", 500))),
            bulk_sync_max=max(0, int(env.get("COLLABADMIN_BULK_SYNC_MAX", 2000))),
            presence_heartbeat=float(env.get("COLLABADMIN_PRESENCE_HEARTBEAT", 10.0)),
            presence_expiry=float(env.get("COLLABADMIN_PRESENCE_EXPIRY", 30.0)),
            draft_schedule_interval=float(env.get("COLLABADMIN_DRAFT_SCHEDULE_INTERVAL", 1.0)),
            metrics_token=env.get("COLLABADMIN_METRICS_TOKEN") or None,
            app_role=env.get("COLLABADMIN_APP_ROLE") or None,
            trusted_proxies=parse_networks(env.get("COLLABADMIN_TRUSTED_PROXIES")),
            password_concurrency=int(
                env.get("COLLABADMIN_PASSWORD_CONCURRENCY") or default_password_concurrency()
            ),
            login_pair_limit=int(env.get("COLLABADMIN_LOGIN_PAIR_LIMIT", 5)),
            login_address_limit=int(env.get("COLLABADMIN_LOGIN_ADDRESS_LIMIT", 20)),
            login_account_limit=int(env.get("COLLABADMIN_LOGIN_ACCOUNT_LIMIT", 100)),
            login_account_interval=float(env.get("COLLABADMIN_LOGIN_ACCOUNT_INTERVAL", 10.0)),
            broker=env.get("COLLABADMIN_BROKER") or None,
            broker_stream=env.get("COLLABADMIN_BROKER_STREAM") or None,
            broker_max_age=float(env.get("COLLABADMIN_BROKER_MAX_AGE", 24 * 3600.0)),
            background=env.get("COLLABADMIN_BACKGROUND") or "here",
        )
