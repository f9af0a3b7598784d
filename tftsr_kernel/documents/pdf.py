"""HTML to PDF, offline, by printing with headless Chromium.

``html_to_pdf(html, out_path)`` writes the HTML to a private temporary directory, prints it with
``chromium --headless --print-to-pdf`` and moves the result to ``out_path``. The browser runs with
a throw-away profile, background networking off and every network request sent to a dead proxy,
so printing never reaches the network even if the HTML refers to remote resources.

The browser: ``TFTSR_CHROMIUM`` if set, else the first of ``/usr/bin/chromium``, ``chromium``,
``chromium-browser``, ``google-chrome`` found. On Debian: ``sudo apt-get install chromium``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..errors import ExportError

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
DEFAULT_TIMEOUT = 90.0
_INSTALL_HINT = ("install Chromium (Debian/Ubuntu: sudo apt-get install chromium) or set TFTSR_CHROMIUM "
                 "to the browser's path")


def find_chromium() -> str:
    """The Chromium (or Chrome) executable to print with; ExportError saying how to install it."""
    env = os.environ.get("TFTSR_CHROMIUM", "").strip()
    if env:
        found = shutil.which(env) or (env if os.path.isfile(env) and os.access(env, os.X_OK) else None)
        if not found:
            raise ExportError(f"TFTSR_CHROMIUM is set to {env!r}, which is not an executable; {_INSTALL_HINT}")
        return found
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError(f"PDF export needs a Chromium browser and none was found; {_INSTALL_HINT}")


def chromium_args(browser: str, profile_dir: str, out_pdf: str, url: str) -> list[str]:
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--disable-domain-reliability",
        "--disable-client-side-phishing-detection", "--metrics-recording-only", "--mute-audio",
        "--hide-scrollbars", "--disable-dev-shm-usage",
        # every request goes to a closed local port: printing never reaches the network
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
        "--no-pdf-header-footer", "--print-to-pdf-no-header",
        f"--user-data-dir={profile_dir}", f"--print-to-pdf={out_pdf}", url,
    ]


def html_to_pdf(html: str, out_path: str | os.PathLike, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Print ``html`` (a complete page) to a PDF at ``out_path``; returns the path.

    ``out_path`` is replaced if it exists (callers choose a free name). Raises ExportError when
    Chromium is missing, fails, times out or writes no PDF.
    """
    if not isinstance(html, str):
        raise ExportError("html_to_pdf needs the page as text")
    out = Path(out_path).expanduser()
    if not out.parent.is_dir():
        raise ExportError(f"the output directory {out.parent} does not exist")
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="tftsr-pdf-") as tmp:
        src = Path(tmp) / "document.html"
        src.write_text(html, encoding="utf-8", errors="surrogatepass")
        pdf = Path(tmp) / "document.pdf"
        profile = Path(tmp) / "profile"
        profile.mkdir()
        args = chromium_args(browser, str(profile), str(pdf), src.as_uri())
        env = dict(os.environ)
        env.setdefault("HOME", tmp)
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=env, cwd=tmp, start_new_session=True)
        except OSError as exc:
            raise ExportError(f"could not start {browser}: {exc.strerror}; {_INSTALL_HINT}") from None
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ExportError(f"Chromium did not finish printing the PDF within {timeout:.0f} s") from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
            detail = _last_line(err)
            raise ExportError(f"Chromium could not print the PDF (exit {proc.returncode})"
                              + (f": {detail}" if detail else ""))
        with open(pdf, "rb") as fh:
            if fh.read(5) != b"%PDF-":
                raise ExportError("Chromium wrote a file that is not a PDF")
        try:
            shutil.copyfile(pdf, out)
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror}") from None
    return out


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _last_line(err: bytes | None) -> str:
    lines = [ln.strip() for ln in (err or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
    # Chromium prints harmless warnings (dbus, GPU); keep the last ERROR line if there is one
    errors = [ln for ln in lines if "ERROR" in ln]
    line = (errors or lines or [""])[-1]
    return line[:300]
