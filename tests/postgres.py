"""A throwaway PostgreSQL server for the store tests: Debian's package, a cluster in a temp dir.

scripts/install-system-deps.sh installs the `postgresql` package (CI runs it as root); this
starts a cluster of its own with ``initdb`` and ``pg_ctl`` on a Unix socket in a temporary
directory (no TCP port, no password), as the `postgres` system user when run as root
(PostgreSQL refuses to run as root), and removes it afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOW = "install it with: sudo scripts/install-system-deps.sh (Debian's postgresql package)"
PORT = 54329


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError(f"PostgreSQL's server programs are not installed; {HOW}")
    return found[-1].parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL server; yield the SQLAlchemy URL of an empty database on it."""
    bindir = _bindir()
    user: str | None = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            raise RuntimeError(f"no 'postgres' system user to run the server as; {HOW}") from None
    folder = Path(tempfile.mkdtemp(prefix="labecon-pg-"))
    data, sockets = folder / "data", folder / "run"
    sockets.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (folder, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, user=user, cwd=folder)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "labecon", "-E", "UTF8")
        options = f"-p {PORT} -k {sockets} -c listen_addresses=''"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
            str(folder / "server.log"), "start")  # fmt: skip
        try:
            run(str(bindir / "createdb"), "-h", str(sockets), "-p", str(PORT), "-U", "labecon",
                "labecon_test")  # fmt: skip
            yield f"postgresql+psycopg://labecon@/labecon_test?host={sockets}&port={PORT}"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
