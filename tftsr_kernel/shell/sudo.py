"""Sudo credentials (table ``sudo_config``, migration 019): one row per OS account.

sudo asks for the password of the account that runs it, so the row that is used is the one of the
OS account this workbench runs as (:func:`os_user`; when the dashboard is served, its service
account). The password is sealed with the store's secrets (AES-256-GCM, purpose
``sudo_password``) inside the SQLCipher file; nothing reads it back but a run or a test.

When it is given: an approved command whose first program is the system's ``sudo`` and that runs
without a shell runs as ``sudo -A ...``: when sudo needs the password it asks a helper
(``SUDO_ASKPASS``) that reads it from a 0600 file in a private 0700 directory in /dev/shm, made
for the run and removed after it (:func:`.runner.sudo_askpass`). It is never in an argument, the
environment or the command's standard input, which stays /dev/null: with ``sudo -S`` a command
that sudo lets run without asking (cached credentials, NOPASSWD, root) would read it there. It
is not given when the command chooses its own way (``sudo -n``, ``-A``, ``-S``), nor inside a
pipeline, a list or ``bash -c`` (sudo there works only through NOPASSWD rules). Wherever the
password shows up in the output it is replaced with ``[sudo password]`` before anything is
stored, shown or sent. Audit rows name the account, never the password.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass

from .rules import WRAPPERS

MARK = "[sudo password]"
PURPOSE = "sudo_password"
MAX_PASSWORD = 1024
TEST_TIMEOUT = 20.0

# sudo's options that take a value (the next word, or the rest of a short cluster)
_VALUE_OPTS = WRAPPERS["sudo"]
_NO_PASSWORD_WANTED = {"-n", "--non-interactive", "-A", "--askpass", "-S", "--stdin"}


@dataclass
class SudoConfig:
    """What is stored for one OS account (never the password)."""

    username: str
    configured: bool
    updated_at: str | None
    is_current_user: bool     # the account this workbench runs as: its commands use this row

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SudoTestResult:
    """``sudo -S -k -p '' -- true`` with the stored password (or ``sudo -n true`` without one)."""

    ok: bool
    username: str
    message: str
    exit_code: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def os_user() -> str:
    """The name of the OS account this process runs as."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (KeyError, ImportError):
        return os.environ.get("USER") or str(os.geteuid())


def check_username(name) -> str:
    from ..errors import ValidationError

    if name is None:
        return os_user()
    if not isinstance(name, str) or not name.strip() or len(name) > 64 or any(
            c.isspace() or c in ":/\x00" or not c.isprintable() for c in name):
        raise ValidationError("an OS account name is 1 to 64 printable characters without spaces, ':' or '/'")
    return name.strip()


def check_password(password) -> str:
    from ..errors import ValidationError

    if not isinstance(password, str) or not password:
        raise ValidationError("give the sudo password (it is stored encrypted)")
    if len(password) > MAX_PASSWORD or any(c in password for c in "\n\r\x00"):
        raise ValidationError("a sudo password is one line of at most 1024 characters")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("the sudo password is not valid UTF-8 text") from None
    return password


def wants_password(argv) -> bool:
    """True when ``argv`` is ``sudo ...`` that may ask for a password (not ``-n`` / ``-A``)."""
    if not argv or os.path.basename(argv[0]) != "sudo":
        return False
    words = list(argv[1:])
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--" or not w.startswith("-") or w == "-":
            break
        if w.startswith("--"):
            name = w.split("=", 1)[0]
            if name in _NO_PASSWORD_WANTED:
                return False
            if name in _VALUE_OPTS and "=" not in w:
                i += 1
        else:
            for j, ch in enumerate(w[1:], 1):
                if f"-{ch}" in _NO_PASSWORD_WANTED:
                    return False
                if f"-{ch}" in _VALUE_OPTS:
                    if j == len(w) - 1:
                        i += 1       # its value is the next word
                    break
        i += 1
    return True


def real_sudo(program: str, path: str | None) -> str | None:
    """The absolute path of ``program`` when it is the system's sudo: a root-owned set-user-ID file
    that only root may change, in root-owned directories. A ``sudo`` found first on a PATH entry
    the user controls, or named by a path elsewhere (``/tmp/x/sudo``), is not, and gets nothing."""
    import stat

    found = program if os.path.isabs(program) else shutil.which(program, path=path)
    if not found:
        return None
    real = os.path.realpath(found)
    try:
        st = os.stat(real)
        if st.st_uid != 0 or not stat.S_ISREG(st.st_mode) or not st.st_mode & stat.S_ISUID or st.st_mode & 0o022:
            return None
        d = os.path.dirname(real)
        while True:
            dst = os.stat(d)
            if dst.st_uid != 0 or dst.st_mode & 0o022:
                return None
            if d == os.path.dirname(d):
                return real
            d = os.path.dirname(d)
    except OSError:
        return None


def with_askpass(argv, sudo_path: str) -> list[str]:
    """``sudo ARGS`` as ``/usr/bin/sudo -A ARGS``: a password, when sudo needs one, comes from the
    ``SUDO_ASKPASS`` helper (see :func:`.runner.sudo_askpass`)."""
    return [sudo_path, "-A", *argv[1:]]


def hide(text: str, password: str | None) -> str:
    """``text`` with every occurrence of the password replaced (and a cut-off tail of it, 4+ characters)."""
    if not password or not text:
        return text
    text = text.replace(password, MARK)
    for k in range(min(len(password) - 1, len(text)), 3, -1):
        if text.endswith(password[:k]):
            return text[:-k] + MARK
    return text


def run_test(password: str | None, username: str, env: dict) -> SudoTestResult:
    """Try sudo as this process's account: with the password on stdin (cached credentials ignored),
    or, with none stored, without any (NOPASSWD rules)."""
    sudo = shutil.which("sudo", path=env.get("PATH"))
    if sudo is None:
        return SudoTestResult(False, username, "sudo is not installed on this machine")
    me = os_user()
    if username != me:
        return SudoTestResult(False, username, f"the workbench runs as {me}, and sudo asks for the password of the "
                                               f"account that runs it: {username}'s is used only when the workbench "
                                               f"runs as {username}")
    argv = [sudo, "-S", "-k", "-p", "", "--", "true"] if password else [sudo, "-n", "--", "true"]
    try:
        proc = subprocess.run(argv, input=(password + "\n") if password else None, capture_output=True, text=True,
                              env=env, timeout=TEST_TIMEOUT, stdin=None if password else subprocess.DEVNULL,
                              start_new_session=True)
    except subprocess.TimeoutExpired:
        return SudoTestResult(False, username, f"sudo did not answer within {TEST_TIMEOUT:g} s")
    except OSError as exc:
        return SudoTestResult(False, username, f"sudo could not be started: {exc.strerror or exc}")
    said = " ".join(hide(proc.stderr, password).split())[:300]
    if proc.returncode == 0:
        if os.geteuid() == 0:
            message = "sudo works (the workbench runs as root, so sudo asks for no password)"
        else:
            message = "sudo accepted the stored password" if password else "sudo works without a password here"
        return SudoTestResult(True, username, message, 0)
    if not password:
        return SudoTestResult(False, username, f"sudo needs a password here and none is stored ({said})",
                              proc.returncode)
    return SudoTestResult(False, username, f"sudo refused: {said or 'exit ' + str(proc.returncode)}",
                          proc.returncode)
