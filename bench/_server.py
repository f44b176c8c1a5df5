"""A real `threadline serve` for the end-to-end benchmarks: set up on a temp
SQLite database with CLI commands, served on free ports, optionally recorded with
py-spy, and one whole run from setup to the RESULT line. Also what the workspace
benchmarks seed besides: a fresh PostgreSQL database, and signed-in agents."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

import sqlalchemy as sa
from _common import NAN, summarize_profile  # first: it puts this checkout's src on the path

from threadline.actions.sessions import open_session
from threadline.actions.users import add_user
from threadline.storage.db import Tx, sync_url
from threadline.web.sessions import CSRF_COOKIE, SESSION_COOKIE

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "CLI",
    "ROOT",
    "Server",
    "Session",
    "add_agents",
    "add_common_args",
    "cpu_seconds",
    "create_pg_database",
    "drop_pg_database",
    "free_port",
    "in_tx",
    "load_line",
    "open_sessions",
    "run_benchmark",
]

CLI = "from threadline.cli.main import main; main()"  # the module has no __main__ guard

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server -------------------------------------------------------------------------
class Server:
    """`threadline serve` as a subprocess on free ports, with its DB in ``tmp``."""

    def __init__(self, tmp: Path, *, profile: bool | str) -> None:
        self.tmp = tmp
        self.db = tmp / "bench.db"
        self.port = free_port()
        self.smtp_port = free_port()
        self.env = {
            **os.environ,
            "THREADLINE_DATABASE_URL": f"sqlite:///{self.db}",
            "THREADLINE_DATA_DIR": str(tmp),
            "THREADLINE_SECRET_KEY": "bench",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
            ),
        }
        self.profile = bool(profile)
        # "gil": sample only the thread holding the GIL, which is what the threads
        # compete for; otherwise every busy thread, a thread waiting for it included.
        self.gil = profile == "gil"
        self.python_args: list[str] = []  # before `-c`: `-m pyinstrument ...` wraps the server
        self.proc: subprocess.Popen[bytes] | None = None
        self.profilers: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.stderr_path = tmp / "server.stderr"
        self.stdout_path = tmp / "server.stdout"  # structlog's console renderer prints here
        self._logs: list[IO[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """A `threadline` CLI command on the benchmark's database; its stdout."""
        out = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"threadline {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def start(self) -> None:
        stdout, stderr = open(self.stdout_path, "wb"), open(self.stderr_path, "wb")  # noqa: SIM115
        self._logs = [stdout, stderr]  # closed in stop()
        ports = ["--port", str(self.port), "--smtp-port", str(self.smtp_port)]
        self.proc = subprocess.Popen(
            [sys.executable, *self.python_args, "-c", CLI, "serve", *ports],
            env=self.env,
            stdout=stdout,
            stderr=stderr,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer /healthz within 30 s")
        if self.profile:
            self._start_profilers()

    def _start_profilers(self) -> None:
        pyspy = shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )
        if pyspy is None:
            print("profile: py-spy is not installed (pip install py-spy); running without it")
            return
        assert self.proc is not None
        # Two non-blocking samplers: a flame graph to look at, raw stacks to summarise.
        for fmt, name, extra in (
            ("flamegraph", "profile.svg", []),
            ("raw", "profile.txt", ["--threads", *(["--gil"] if self.gil else [])]),
        ):
            path = self.tmp / name
            cmd = [pyspy, "record", "--pid", str(self.proc.pid), "--nonblocking"]
            cmd += ["--rate", "97", "--format", fmt, "-o", str(path), *extra]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.profilers.append((p, path))
        time.sleep(1.0)
        for p, _ in self.profilers:
            if p.poll() is not None:
                err = p.stderr.read().decode() if p.stderr else ""
                print(f"profile: py-spy exited early: {err.strip()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop_profilers(self) -> list[Path]:
        done = []
        for p, path in self.profilers:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
            if path.exists():
                done.append(path)
        self.profilers.clear()
        return done

    def stop(self) -> int | None:
        self.stop_profilers()
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            code = self.proc.returncode
        for f in self._logs:
            f.close()
        self._logs = []
        return code

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def report_logs(self) -> None:
        """How much the server wrote, and its most frequent error or warning lines."""
        for path in (self.stderr_path, self.stdout_path):
            lines = path.read_text(errors="replace").splitlines() if path.exists() else []
            noisy = Counter(
                re.sub(r"^\S+ \S+\s+|\d+", "", ln)[:160]
                for ln in lines
                if re.search(r"error|exception|traceback|warn|failed", ln, re.I)
            )
            print(
                f"\nserver {path.suffix[1:]}: {len(lines)} lines, {sum(noisy.values())} "
                f"mentioning errors/warnings ({path})"
            )
            for ln, k in noisy.most_common(8):
                print(f"  x{k}: {ln}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return NAN


def load_line(server: Server, cpu0: float, wall0: float) -> str:
    assert server.proc is not None
    cpu = cpu_seconds(server.proc.pid) - cpu0
    wall = time.monotonic() - wall0
    return (
        f"  server process CPU: {100 * cpu / wall:.0f}% of one core over the phase "
        "(one Python process; the GIL caps its Python work at one core)"
    )


# -- seeding: a fresh PostgreSQL database, agents and their sessions --------------------------
def create_pg_database(admin_url: str, prefix: str = "threadline_bench") -> str:
    """A new empty database on the server of ``admin_url``; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def in_tx(db_url: str, fn: Callable[[Tx], T]) -> T:
    """Run an action (``fn(tx)``) in one transaction of its own, outside any server."""
    engine = sa.create_engine(sync_url(db_url))
    try:
        with engine.begin() as conn:
            return fn(Tx(conn, datetime.now(UTC)))
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the two cookies a sign-in would have set."""

    user_id: int
    token: str
    csrf: str

    def cookies(self) -> dict[str, str]:
        return {SESSION_COOKIE: self.token, CSRF_COOKIE: self.csrf}

    def cookie_header(self) -> str:
        return f"{SESSION_COOKIE}={self.token}; {CSRF_COOKIE}={self.csrf}"


def add_agents(tx: Tx, n: int, *, role: str = "agent", prefix: str = "agent") -> list[int]:
    """``n`` users without passwords (they never sign in with one: see open_sessions)."""
    return [
        add_user(
            tx,
            email=f"{prefix}{i}@acme.test",
            name=f"{prefix.title()} {i}",
            role=role,
            password_hash=None,
            actor="bench",
        )
        for i in range(n)
    ]


def open_sessions(tx: Tx, user_ids: Iterable[int]) -> list[Session]:
    """Sessions opened as a sign-in opens them, minus argon2: a hash per agent would
    take longer than the benchmark."""
    out = []
    for user_id in user_ids:
        csrf = uuid.uuid4().hex
        token = open_session(tx, user_id=user_id, csrf_token=csrf, lifetime=timedelta(hours=12))
        out.append(Session(user_id, token, csrf))
    return out


# -- a whole run --------------------------------------------------------------------------
def add_common_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per phase (default 15)")
    ap.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (DB, logs, profile)")
    ap.add_argument(
        "--profile",
        nargs="?",
        const="busy",
        choices=["busy", "gil"],
        help="record the server with py-spy: every busy thread, or (gil) only the one "
        "holding the GIL, which is where CPU-bound threads queue",
    )
    ap.add_argument("--verbose", action="store_true", help="print wrk's full output")


def run_benchmark(
    args: argparse.Namespace,
    setup: Callable[[Server], T],
    phases: Callable[[Server, T], bool],
    verdicts: tuple[str, str] = (
        "all acknowledged messages stored, no errors",
        "see problems above",
    ),
) -> None:
    """Set up a temp database with CLI commands, serve it, run the phases, then report
    the profile, the server's logs and one RESULT line, and clean up."""
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-"))
    server = Server(tmp, profile=args.profile or False)
    ok = True
    try:
        prepared = setup(server)
        server.start()
        print(
            f"server pid {server.proc.pid if server.proc else '?'} on {server.url}, "
            f"SMTP {server.smtp_port}, DB {server.db}"
        )
        ok = phases(server, prepared)
        profiles = server.stop_profilers() if args.profile else []
        raw = [p for p in profiles if p.suffix == ".txt"]
        if raw:
            summarize_profile(
                raw[0], sampled="the thread holding the GIL" if server.gil else "busy threads"
            )
    except Exception as exc:
        ok = False
        print(f"FAILED: {type(exc).__name__}: {exc}")
    finally:
        died = not server.alive()
        code = server.stop()
        if died:
            print(f"\nserver died (exit {code}); stderr tail:\n{server.stderr_tail()}")
        server.report_logs()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\nRESULT:", verdicts[0] if ok else verdicts[1])
