"""A private Dovecot IMAP server for tests that must talk to a real IMAP server.

Each :class:`Dovecot` owns a temp directory holding its config, sockets, log and
Maildirs, listens on a free loopback port and runs in the foreground as our
child, so ``stop()`` can reap it instead of polling a daemon we don't own.
Accounts live in a ``passwd-file`` that Dovecot rereads on every login, so
tests can add a fresh account (a fresh, empty mailbox) without a restart.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]

from tests.support.servers import free_port

__all__ = [
    "DOVECOT",
    "DOVECOT_LDA",
    "Dovecot",
    "DovecotError",
    "dovecot_available",
    "running_dovecot",
]

DOVECOT = os.environ.get("THREADLINE_DOVECOT", "/usr/sbin/dovecot")
DOVECOT_LDA = os.environ.get("THREADLINE_DOVECOT_LDA", "/usr/lib/dovecot/dovecot-lda")

# Mail is owned by an unprivileged account: dovecot-lda refuses to deliver as
# uid 0 ("userdb returned 0 as uid"), and the imap processes run as this user.
_MAIL_USER = "nobody"
_MAIL_GROUP = "nogroup"

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 0
passdb {{
  driver = passwd-file
  # One file per account: Dovecot notices passwd-file edits by mtime, which has
  # one-second granularity, so an account appended to a shared file within the
  # same second as the last login stays invisible. A new file is always read.
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  # Keepalives every second during IDLE so clients see traffic quickly in tests.
  imap_idle_notify_interval = 1 secs
}}
"""


class DovecotError(RuntimeError):
    pass


def dovecot_available() -> bool:
    return os.access(DOVECOT, os.X_OK)


class Dovecot:
    """A Dovecot instance plus a default account (``user``/``password``).

    :meth:`with_user` returns a view of the same server bound to another
    account; views share the process, so stop the server through its owner.
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        user: str = "support@acme.test",
        password: str = "s3cret",
    ) -> None:
        # A short path of our own rather than pytest's tmp_path: the unprivileged
        # mail user must be able to traverse it (pytest's dirs are 0700 root) and
        # unix socket paths under base_dir must stay under 108 bytes.
        self._owns_root = root is None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="tl-dovecot-"))
        self.host = "127.0.0.1"
        self.port = 0
        self.user = user
        self.password = password
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, *, port: int | None = None, timeout: float = 15.0) -> None:
        if self._proc is not None:
            raise DovecotError("already started")
        if not dovecot_available():
            raise DovecotError(f"{DOVECOT} not found")
        uid = pwd.getpwnam(_MAIL_USER).pw_uid
        gid = grp.getgrnam(_MAIL_GROUP).gr_gid
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail", "users"):
            (self.root / sub).mkdir(exist_ok=True)
        os.chown(self.root / "mail", uid, gid)
        self.add_user(self.user, self.password)

        self.port = port if port is not None else free_port()
        self.config_path.write_text(
            _CONFIG.format(
                root=self.root, port=self.port, mail_user=_MAIL_USER, mail_group=_MAIL_GROUP
            )
        )
        # -F keeps the master in the foreground as our child so stop() can reap it.
        with (self.root / "master.stderr").open("wb") as stderr:
            self._proc = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                self._proc = None
                raise DovecotError(f"dovecot exited at startup:\n{self._diagnostics()}")
            if self._greets():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise DovecotError(f"dovecot did not come up:\n{self._diagnostics()}")
            time.sleep(0.05)

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as s:
                return s.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _diagnostics(self) -> str:
        stderr = (self.root / "master.stderr").read_text(errors="replace")
        return f"stderr:\n{stderr}\nlog:\n{self.log_text()[-4000:]}"

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        pid_file = self.root / "run" / "master.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            pid = proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def close(self) -> None:
        """Stop the server and remove its directory (if we created it)."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts ----------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        if any(c in user + password for c in ":/\n") or user.startswith("."):
            raise ValueError(f"unusable test account {user!r}")
        path = self.root / "users" / user
        path.write_text(f"{user}:{{PLAIN}}{password}\n")
        # The auth process runs as the unprivileged "dovecot" user and must read it.
        path.chmod(0o644)

    def with_user(self, user: str, password: str = "s3cret") -> Dovecot:
        """A view of this server for a new account (an empty mailbox of its own)."""
        self.add_user(user, password)
        view = object.__new__(Dovecot)
        view.__dict__.update(self.__dict__)
        view._owns_root = False
        view.user = user
        view.password = password
        return view

    # -- mail ------------------------------------------------------------

    def connect(self) -> IMAPClient:
        """A logged-in IMAPClient for the account (caller logs out)."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(self.user, self.password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(self, raw: bytes, folder: str = "INBOX", *, flags: Sequence[bytes] = ()) -> int:
        """APPEND ``raw`` as the account and return its UID (from UIDPLUS)."""
        with self.connect() as client:
            resp: Any = client.append(folder, raw, flags=tuple(flags))
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        text = resp.decode() if isinstance(resp, bytes) else str(resp)
        if text.startswith("[APPENDUID "):
            return int(text.split()[2].rstrip("]"))
        raise DovecotError(f"no APPENDUID in {text!r}")

    def deliver(self, raw: bytes, *, folder: str | None = None) -> None:
        """Deliver ``raw`` to the account through dovecot-lda, like an MTA would."""
        cmd = [DOVECOT_LDA, "-c", str(self.config_path), "-d", self.user]
        if folder is not None:
            cmd += ["-m", folder]
        proc = subprocess.run(cmd, input=raw, capture_output=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise DovecotError(
                f"dovecot-lda exited {proc.returncode}: {proc.stderr.decode(errors='replace')}\n"
                f"{self.log_text()[-2000:]}"
            )


@contextlib.contextmanager
def running_dovecot(root: Path | None = None, **kwargs: Any) -> Iterator[Dovecot]:
    server = Dovecot(root, **kwargs)
    try:
        server.start()
        yield server
    finally:
        server.close()
