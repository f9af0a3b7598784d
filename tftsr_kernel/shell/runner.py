"""Running one classified command: a scrubbed environment, a timeout, an output cap, no shell
unless the command needs one, and a kubeconfig handed over in a private file removed afterwards.

- Environment: only an allow-list of harmless variables passes (PATH, HOME, LANG, LC_*, TERM, TZ,
  USER, LOGNAME, SHELL, TMPDIR, proxies without credentials), and of those any whose name looks
  like a credential (``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*``, ``*_KEY``, AWS_/AZURE_/GOOGLE_/…)
  is dropped too. ``KUBECONFIG`` is set only to the private file of the active kubeconfig.
- A command the classifier could read as plain words runs as that argv (checked against
  ``shlex.split``); pipes, redirections, substitutions or variables run under ``bash -c`` (the
  classifier has already judged every part).
- The child gets its own process group and stdin from /dev/null (a ``sudo`` command run with the
  stored sudo password gets it through ``SUDO_ASKPASS``, see :func:`sudo_askpass`); on timeout or
  when the output passes the cap the whole group is killed.
- The kubeconfig file is 0600 in a 0700 directory made for this run (``tftsr-kube-<pid>-…`` in
  /dev/shm when it is there, so it is never on a disk), removed in ``finally``; directories left by
  a process that died are swept at the next run.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from . import sudo
from .errors import ShellError

DEFAULT_TIMEOUT = 30.0
DEFAULT_OUTPUT_CAP = 256 * 1024
KUBE_DIR_PREFIX = "tftsr-kube-"
SUDO_DIR_PREFIX = "tftsr-sudo-"

_KEEP = {"PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR",
         "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}
_SECRET_NAME = re.compile(
    r"(^(AWS|AZURE|ARM|GOOGLE|GCLOUD|GCP|CLOUDSDK|DIGITALOCEAN|HCLOUD|VAULT|TFTSR|OPENAI|ANTHROPIC|KUBE)_)|"
    r"(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_KEY$|_PASS$|APIKEY|API_KEY|^KUBECONFIG$|^SSH_AUTH_SOCK$)", re.I)


def scrubbed_env(base: dict | None = None) -> dict:
    base = dict(os.environ if base is None else base)
    env = {}
    for k, v in base.items():
        if not (k in _KEEP or k.startswith("LC_")):
            continue
        if _SECRET_NAME.search(k):
            continue
        if "proxy" in k.lower() and "@" in v:
            continue  # a proxy URL with credentials in it
        env[k] = v
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    return env


@dataclass
class RunResult:
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool
    truncated: bool
    used_shell: bool
    sudo_password_given: bool = False


def _shm_root() -> str:
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return tempfile.gettempdir()


def kube_roots() -> list[str]:
    """Where private kubeconfig directories are made (the tests scan these)."""
    return sorted({_shm_root(), tempfile.gettempdir()})


def sweep_stale_dirs() -> int:
    """Remove private directories (kubeconfigs, sudo askpass) left by processes that are gone;
    returns how many."""
    removed = 0
    for root in kube_roots():
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for name in entries:
            m = re.fullmatch(f"(?:{re.escape(KUBE_DIR_PREFIX)}|{re.escape(SUDO_DIR_PREFIX)})" + r"(\d+)-.*", name)
            if not m:
                continue
            pid = int(m.group(1))
            path = os.path.join(root, name)
            try:
                if os.stat(path).st_uid != os.getuid():
                    continue
                os.kill(pid, 0)
                continue   # its process is alive: its run removes it
            except ProcessLookupError:
                pass
            except (PermissionError, OSError):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _private_file(d: str, name: str, content: str, mode: int = 0o600) -> str:
    path = os.path.join(d, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    return path


def _exec_root() -> str | None:
    """Where a helper program may be run from: /dev/shm or the temporary directory, the first
    not mounted ``noexec``."""
    for root in (_shm_root(), tempfile.gettempdir()):
        try:
            if not os.statvfs(root).f_flag & getattr(os, "ST_NOEXEC", 8):
                return root
        except OSError:
            continue
    return None


@contextmanager
def _private_dir(prefix: str, root: str | None = None):
    """A fresh 0700 directory in ``root`` (default /dev/shm, else the temporary directory),
    removed on exit whatever happens; one left by a process that died is swept at the next run."""
    sweep_stale_dirs()
    d = tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root or _shm_root())
    try:
        os.chmod(d, 0o700)
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def private_kubeconfig(content: str | None):
    """A 0600 file holding ``content`` in a fresh 0700 directory, removed on exit whatever happens.
    ``content`` None: an empty file (so kubectl never falls back to ~/.kube/config)."""
    with _private_dir(KUBE_DIR_PREFIX) as d:
        yield d, _private_file(d, "config", content or "")


@contextmanager
def sudo_askpass(password: str):
    """``SUDO_ASKPASS`` for one run: a helper that prints ``password``, which it reads from a
    0600 file in a fresh 0700 directory (in memory when /dev/shm is there), both removed after
    the command (the helper, which holds only the file's path, goes to the temporary directory
    when /dev/shm is mounted noexec). sudo runs the helper only when it needs a password, as the
    account that runs sudo; the command itself keeps stdin from /dev/null, so nothing it runs
    as root can read the password from its input."""
    root = _exec_root()
    if root is None:
        raise ShellError("sudo's askpass helper cannot run: /dev/shm and the temporary directory are both "
                         "mounted noexec; the command was not run")
    with _private_dir(SUDO_DIR_PREFIX) as d, ExitStack() as more:
        secret = _private_file(d, "password", password + "\n")
        # /dev/shm mounted noexec: the helper (which holds no secret) goes to its own directory in root
        h = d if root == _shm_root() else more.enter_context(_private_dir(SUDO_DIR_PREFIX, root))
        yield _private_file(h, "askpass", f"#!/bin/sh\nexec cat -- {shlex.quote(secret)}\n", 0o700)


def plan_argv(command: str, argv: tuple | None) -> tuple[list[str], bool]:
    """(argv to exec, whether a shell is used)."""
    if argv:
        try:
            if tuple(shlex.split(command)) == tuple(argv):
                return list(argv), False
        except ValueError:
            pass
    shell = shutil.which("bash") or "/bin/sh"
    return [shell, "-c", command], True


def run(command: str, argv: tuple | None, *, env: dict, timeout: float = DEFAULT_TIMEOUT,
        output_cap: int = DEFAULT_OUTPUT_CAP, cwd: str | None = None, sudo_password: str | None = None) -> RunResult:
    """Run it; ``sudo_password`` goes to a ``sudo`` command run without a shell (see :mod:`.sudo`),
    and is replaced in the output wherever it shows."""
    args, used_shell = plan_argv(command, argv)
    real = sudo.real_sudo(args[0], env.get("PATH")) if sudo_password and not used_shell and \
        sudo.wants_password(args) else None
    if real is None:
        return _run(args, used_shell, False, env=env, timeout=timeout, output_cap=output_cap, cwd=cwd,
                    sudo_password=sudo_password)
    with sudo_askpass(sudo_password) as helper:
        return _run(sudo.with_askpass(args, real), used_shell, True, env=dict(env, SUDO_ASKPASS=helper),
                    timeout=timeout, output_cap=output_cap, cwd=cwd, sudo_password=sudo_password)


def _run(args: list, used_shell: bool, give: bool, *, env: dict, timeout: float, output_cap: int, cwd: str | None,
         sudo_password: str | None) -> RunResult:
    start = time.monotonic()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd, start_new_session=True, close_fds=True)
    except FileNotFoundError:
        return RunResult(127, "", f"{args[0]}: command not found\n", 0, False, False, used_shell)
    except PermissionError:
        return RunResult(126, "", f"{args[0]}: permission denied\n", 0, False, False, used_shell)
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    open_fds = set(bufs)
    timed_out = truncated = False
    deadline = start + timeout
    try:
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select(list(open_fds), [], [], min(left, 0.5))
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    open_fds.discard(fd)
                    continue
                bufs[fd].extend(chunk)
                if sum(len(b) for b in bufs.values()) > output_cap:
                    truncated = True
            if truncated:
                break
        if timed_out or truncated:
            _kill(proc)
        try:
            exit_code = proc.wait(timeout=max(0.1, deadline - time.monotonic()) if not timed_out else 5)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            exit_code = proc.wait()
    finally:
        for f in (proc.stdout, proc.stderr):
            try:
                f.close()
            except OSError:
                pass
        if proc.poll() is None:
            _kill(proc)
            proc.wait()
    out = bytes(bufs[next(iter(bufs))])
    err = bytes(list(bufs.values())[1])
    if truncated:
        keep_out = min(len(out), output_cap)
        out, err = out[:keep_out], err[: max(0, output_cap - keep_out)]
    duration = int((time.monotonic() - start) * 1000)
    stderr = sudo.hide(err.decode("utf-8", "replace"), sudo_password)   # before the notes: a cut-off tail too
    if timed_out:
        stderr += f"\n[tftsr: stopped after {timeout:g} s]\n"
    if truncated:
        stderr += f"\n[tftsr: output cut at {output_cap} bytes; the command was stopped]\n"
    return RunResult(None if timed_out else exit_code, sudo.hide(out.decode("utf-8", "replace"), sudo_password),
                     stderr, duration, timed_out, truncated, used_shell, give)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
