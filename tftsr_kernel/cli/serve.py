"""``tftsr dashboard``, ``tftsr lab`` and ``tftsr export``: serve, open and report notebooks.

- ``tftsr dashboard [--host H] [--port N] [--token T] [--allow-host NAME]... [--cull-idle S]``
  serves notebooks/dashboard.ipynb with Voila (tftsr_kernel.serve): a token always (given, or
  generated and printed in the URL), a session cookie, a Host/Origin allow-list, kernels released
  when their page is gone. Sources are stripped, tracebacks hidden, and the page makes no request
  outside the server.
- ``tftsr lab [ISSUE_ID]`` makes (or reuses) ``<data_dir>/notebooks/incident-<id>.ipynb`` with
  its parameters cell filled, and opens JupyterLab on it.
- ``tftsr export ISSUE_ID --to html|pdf|md [-o DIR]`` executes notebooks/incident.ipynb for the
  issue (nbclient) and converts it through this project's report template (code hidden,
  self-contained, offline); PDF is that HTML printed by Chromium.

This module imports no ipywidgets; Voila, nbclient and nbconvert are imported when a command runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import paths
from ..errors import ExportError, NotFoundError, TftsrError, ValidationError
from ..serve.plan import DEFAULT_CULL_IDLE, DEFAULT_MAX_KERNELS
from ._common import Output, _wb, path_arg

REPORT_FORMATS = ("html", "pdf", "md")
REPORT_TEMPLATE = "tftsr-report"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

def templates_dir() -> Path:
    """The project's Jupyter template root (``voila/templates/tftsr``, ``nbconvert/templates/tftsr-report``)."""
    return paths.notebooks_dir() / "templates"


def _notebook(name: str) -> Path:
    path = paths.notebooks_dir() / name
    if not path.is_file():
        raise NotFoundError(f"the notebook template {name} is missing from {paths.notebooks_dir()}")
    return path


def _with_templates_env(env: dict) -> dict:
    extra = str(templates_dir())
    current = env.get("JUPYTER_PATH")
    env["JUPYTER_PATH"] = extra + (os.pathsep + current if current else "")
    return env


# --- tftsr dashboard -----------------------------------------------------------------------------
def cmd_dashboard(args):
    from ..serve.plan import WILDCARD_HOSTS, dashboard_plan

    plan = dashboard_plan(args.host, args.port, args.token, args.allow_host, args.cull_idle, args.max_kernels)
    wb = _wb(args)  # checks the key and applies migrations once, before any kernel starts
    data_dir = str(wb.data_dir)
    team = not wb.team.single_user
    wb.close()
    notebook = _notebook("dashboard.ipynb")
    os.environ["TFTSR_DATA_DIR"] = data_dir
    _with_templates_env(os.environ)
    info = {**plan.as_dict(), "notebook": str(notebook), "data_dir": data_dir,
            "sign_in": "user" if team else "token", "api": plan.url.split("?", 1)[0] + "api/v1/"}
    if args.json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        lines = [f"TFTSR dashboard: {plan.url}", f"data directory: {data_dir}",
                 "Open the URL above; the browser then keeps a session cookie and the token leaves the "
                 "address bar. Share it only with your team."]
        if team:
            lines.append("Team mode: after the token, each person signs in with their TFTSR user name and "
                         "password, and the pages act as that user.")
        else:
            lines.append("Single-user mode (no users yet): everyone with the token acts as 'local'. "
                         "Add users (tftsr user add) to require a sign-in.")
        lines.append(f"HTTP API (Authorization: Bearer tftsr_...): {info['api']}")
        if plan.host in WILDCARD_HOSTS:
            lines.append("Listening on every interface: teammates use this machine's name or address "
                         "(add --allow-host NAME for any other name, e.g. a reverse proxy's).")
        if not plan.loopback:
            lines.append("Serve beyond loopback behind TLS (a reverse proxy) so the token is not sent in clear.")
        lines.append(f"Kernels of closed pages are released; idle ones without a page after {plan.cull_idle} s.")
        lines.append("Press Ctrl-C to stop.")
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    from ..serve.app import serve

    serve(plan, notebook, data_dir)  # until Ctrl-C or SIGTERM
    raise SystemExit(0)  # the document was printed above; print nothing more


# --- tftsr lab ------------------------------------------------------------------------------------
def _latest_issue_id(wb) -> str:
    items = wb.issues.list_issues(sort_by="created_at", sort_order="desc", limit=1)
    if not items:
        raise NotFoundError("there are no issues yet; create one with: tftsr issue create --title ...")
    return items[0].id


def parameterize(nb, issue_id: str):
    """Put ``issue_id = "<id>"`` into the notebook's ``parameters`` cell (in place)."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = f"issue_id = {json.dumps(issue_id)}"
            return nb
    raise ExportError("the incident notebook has no cell tagged 'parameters'")


def incident_notebook(wb, issue_id: str) -> tuple[Path, bool]:
    """``<data_dir>/notebooks/incident-<id>.ipynb`` for the issue: made from the template on first
    use, reused afterwards. Returns (path, created)."""
    import nbformat

    wb.issues.require(issue_id)
    folder = Path(wb.data_dir) / "notebooks"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"incident-{issue_id}.ipynb"
    if path.exists():
        return path, False
    nb = nbformat.read(_notebook("incident.ipynb"), as_version=4)
    parameterize(nb, issue_id)
    title = wb.issues.get_issue_record(issue_id).title
    nb.metadata["title"] = f"Incident: {title}"
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return path, True


def cmd_lab(args):
    wb = _wb(args)
    issue_id = args.issue_id or _latest_issue_id(wb)
    path, created = incident_notebook(wb, issue_id)
    data = {"issue_id": issue_id, "notebook": str(path), "created": created}
    if args.no_launch:
        return Output(data, f"{'created' if created else 'reusing'} {path}")
    data_dir = str(wb.data_dir)
    wb.close()
    env = _with_templates_env(dict(os.environ, TFTSR_DATA_DIR=data_dir))
    argv = [sys.executable, "-m", "jupyterlab", str(path), f"--ServerApp.root_dir={path.parent}",
            "--ServerApp.ip=127.0.0.1"]
    if args.port:
        argv.append(f"--ServerApp.port={args.port}")
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; JupyterLab refuses otherwise
        argv.append("--allow-root")
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(f"{'created' if created else 'reusing'} {path}\nstarting JupyterLab (Ctrl-C to stop)\n")
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


# --- tftsr export ---------------------------------------------------------------------------------
def execute_incident(wb, issue_id: str, *, timeout: int = 300):
    """Run notebooks/incident.ipynb for ``issue_id`` in a fresh kernel; returns the notebook."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    wb.issues.require(issue_id)
    nb = nbformat.read(_notebook("incident.ipynb"), as_version=4)
    parameterize(nb, issue_id)
    old = {k: os.environ.get(k) for k in ("TFTSR_DATA_DIR", "TFTSR_SESSION_TOKEN")}
    os.environ["TFTSR_DATA_DIR"] = str(wb.data_dir)
    session = None
    actor = wb.team.actor
    if not actor.is_local:  # the notebook's kernel acts as this command's user, for this run only
        session = wb.team.open_session(actor.name, via="cli", client="tftsr export", hours=1)
        os.environ["TFTSR_SESSION_TOKEN"] = session.token
    try:
        with tempfile.TemporaryDirectory(prefix="tftsr-export-") as tmp:
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": tmp}})
            client.execute(stderr=subprocess.DEVNULL)  # kernel log noise; cell errors come via messages
    except CellExecutionError as exc:
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        raise ExportError(f"the incident notebook failed: {lines[-1] if lines else 'error'}") from None
    except (CellTimeoutError, DeadKernelError) as exc:
        raise ExportError(f"the incident notebook did not finish: {type(exc).__name__}") from None
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if session is not None:
            wb.team.sign_out(session.token)
    return nb


def _static_outputs(nb, fmt: str):
    """Keep what a report shows without a kernel: drop widget views, stderr, errors and cells
    tagged ``remove-in-report``; for Markdown prefer each output's text/markdown."""
    nb.metadata.pop("widgets", None)
    kept = []
    for cell in nb.cells:
        if "remove-in-report" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            outputs = []
            for out in cell.get("outputs", []):
                if out.get("output_type") in ("error",) or (out.get("output_type") == "stream"
                                                             and out.get("name") == "stderr"):
                    continue
                data = out.get("data")
                if data is not None:
                    data.pop(WIDGET_VIEW, None)
                    data.pop("application/javascript", None)
                    if fmt == "md" and "text/markdown" in data:
                        data.pop("text/html", None)
                    if not data:
                        continue
                outputs.append(out)
            cell.outputs = outputs
        kept.append(cell)
    nb.cells = kept
    return nb


def report_html(nb, title: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=REPORT_TEMPLATE,
                            extra_template_basedirs=[str(templates_dir() / "nbconvert" / "templates")])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(_static_outputs(nb, "html"))
    return body


def report_markdown(nb) -> str:
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter()
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(_static_outputs(nb, "md"))
    return body


def export_incident(wb, issue_id: str, fmt: str = "html", output_dir: str | os.PathLike | None = None, *,
                    unredacted: bool = False) -> Path:
    """Execute the incident notebook for ``issue_id`` and write an html, pdf or md report.

    Reports are for sharing: every output of the notebook and the title pass the egress guard
    with the issue's placeholders (``documents.report.redact_notebook``) unless ``unredacted``
    (audited). The file is named after the redacted title either way."""
    from ..team.actor import require

    fmt = (fmt or "").lower()
    if fmt not in REPORT_FORMATS:
        raise ValidationError(f"unknown report format {fmt!r}; use one of: {', '.join(REPORT_FORMATS)}")
    actor = wb.team.actor  # refused before anything is made or written
    require(actor, "export")
    if unredacted:
        require(actor, "logs:read_original")
    issue = wb.issues.get_issue_record(issue_id)
    folder = Path(output_dir).expanduser() if output_dir else Path(wb.data_dir) / "exports"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the output directory {folder}: {exc.strerror}") from None
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a directory")
    nb = execute_incident(wb, issue_id)
    red_title = wb.pii.guard_outbound(issue_id, issue.title).payload
    title = f"Incident report: {issue.title if unredacted else red_title}"
    if not unredacted:
        from ..documents.report import redact_notebook

        redact_notebook(wb, issue_id, nb)
    if fmt == "md":
        data = report_markdown(nb).encode("utf-8", "surrogatepass")
    else:
        from ..documents.print_layout import prepare_report

        # log lines laid out for reading; on paper the attached logs are printed open
        page = prepare_report(report_html(nb, title), open_attachments=fmt == "pdf")
        data = page.encode("utf-8", "surrogatepass")
    from ..documents.service import reserve_path, slugify

    path = reserve_path(folder, "incident-report-" + slugify(red_title, 60), fmt)
    try:
        if fmt == "pdf":
            from ..documents.pdf import html_to_pdf

            html_to_pdf(data.decode("utf-8", "surrogatepass"), path)
            data = path.read_bytes()
        else:
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    wb.audit.write_audit_event("export_report", "issue", issue_id, {
        "format": fmt, "file_name": path.name, "bytes": len(data), "file_sha256": hashlib.sha256(data).hexdigest(),
        "redacted": not unredacted, "actor": wb.audit.user_id})
    return path.resolve()


def cmd_export(args):
    wb = _wb(args)
    path = export_incident(wb, args.issue_id, args.to, args.output_dir, unredacted=args.unredacted)
    how = "UNREDACTED report (recorded in the audit log)" if args.unredacted else "report"
    return Output({"issue_id": args.issue_id, "format": args.to, "path": str(path),
                   "bytes": path.stat().st_size, "redacted": not args.unredacted}, f"{how} written to {path}")


# --- registration --------------------------------------------------------------------------------
def register(sub, add):
    sp = add(sub, "dashboard", cmd_dashboard,
             "serve the team dashboard (Voila): token always, Host/Origin allow-list, bounded kernels")
    sp.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    sp.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    sp.add_argument("--token", help="the access token (default: a new random one each start); "
                                    "always required, on loopback too")
    sp.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                    help="also answer to this Host name (a DNS name, or a reverse proxy's); repeatable")
    sp.add_argument("--cull-idle", type=int, default=None, metavar="SECONDS",
                    help=f"release the kernel of a page that is gone after this many idle seconds "
                         f"(default {DEFAULT_CULL_IDLE})")
    sp.add_argument("--max-kernels", type=int, default=None, metavar="N",
                    help=f"refuse new pages (503) while N pages have a kernel (default {DEFAULT_MAX_KERNELS}; "
                         "each kernel is a Python process of about 70 MB)")

    sp = add(sub, "lab", cmd_lab, "open an incident notebook in JupyterLab (made from the template on first use)")
    sp.add_argument("issue_id", nargs="?", help="the issue (default: the most recent one)")
    sp.add_argument("--port", type=int, help="JupyterLab's port")
    sp.add_argument("--no-browser", action="store_true", help="do not open a browser")
    sp.add_argument("--no-launch", action="store_true", help="only make the notebook and print its path")

    sp = add(sub, "export", cmd_export,
             "write an incident report (html, pdf or md) from the incident notebook, code hidden")
    sp.add_argument("issue_id")
    sp.add_argument("--to", choices=list(REPORT_FORMATS), default="html", help="report format (default html)")
    path_arg(sp, "-o", "--output-dir", help="where to write (default: <data_dir>/exports)")
    sp.add_argument("--unredacted", action="store_true",
                    help="keep the original values (default: redacted for sharing); audited")


__all__ = ["register", "export_incident", "incident_notebook", "execute_incident",
           "TftsrError"]
