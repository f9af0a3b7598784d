"""Access to a real ``tftsr dashboard`` over HTTP and WebSocket (no browser): the token on every
endpoint, the Host allow-list (DNS rebinding), the Origin check on WebSockets.

Kernels are counted through the server's own API (``GET /api/kernels`` with the token)."""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from tests.dashboard import running_dashboard

pytestmark = [pytest.mark.slow]
websockets_sync = pytest.importorskip("websockets.sync.client")
from websockets.exceptions import InvalidStatus  # noqa: E402


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    import tftsr_kernel
    from tftsr_kernel.demo import create_demo

    data = tmp_path_factory.mktemp("access") / "data"
    wb = tftsr_kernel.open(data, shared=False)
    create_demo(wb)
    wb.close()
    with running_dashboard(data, "--allow-host", "dash.example.com") as d:
        yield d


def _no_kernel_started(dash, before: set[str]) -> bool:
    time.sleep(0.5)  # a page handler starts its kernel before it answers; give a stray one time to show
    return not dash.kernels_started_since(before)


def _pool_id(dash) -> str:
    return next(k["id"] for k in dash.kernels() if k["pooled"])


def test_json_document_has_the_url_with_the_token(dash):
    assert dash.url == f"http://127.0.0.1:{dash.port}/?token={dash.token}" and len(dash.token) >= 24
    assert dash.info["token_generated"] is True and "dash.example.com" in dash.info["allowed_hosts"]
    assert dash.info["cull_idle"] == 180


@pytest.mark.parametrize("path", ["", "?token={token}", "?issue=x&token={token}", "api/kernels?token={token}",
                                  "voila/static/voila.js?token={token}", "login", "voila/api/themes/x",
                                  "voila/labextensions/x", "voila/templates/tftsr/static/x"])
def test_a_foreign_host_gets_no_page_and_no_kernel(dash, path):
    before = dash.kernel_ids()
    status, body, _ = dash.get(path.format(token=dash.token), token=False,
                               headers={"Host": f"attacker.example:{dash.port}"})
    assert status == 403, (path, status)
    assert "Not served under this name" in body
    assert "jupyter-config-data" not in body and "Checkout" not in body and dash.token not in body
    assert _no_kernel_started(dash, before)
    # the same with the token in a header
    status, body, _ = dash.get(path.format(token=dash.token), headers={"Host": "attacker.example"})
    assert status == 403 and "jupyter-config-data" not in body
    assert _no_kernel_started(dash, before)


def test_allowed_names_are_served(dash):
    for host in (f"localhost:{dash.port}", f"dash.example.com:{dash.port}", "dash.example.com",
                 f"[::1]:{dash.port}"):
        status, body, _ = dash.get("api/kernels", headers={"Host": host})
        assert status == 200, host


def test_no_token_no_page_on_loopback(dash):
    before = dash.kernel_ids()
    status, body, headers = dash.get("", token=False)
    assert status == 302 and headers["Location"].startswith("/login?next=")
    assert "jupyter-config-data" not in body
    status, body, _ = dash.get("?issue=abc", token=False)
    assert status == 302
    status, body, _ = dash.get("", token=False, headers={"Authorization": "token wrong-token-0123456789"})
    assert status == 302
    near = dash.token[:-1] + ("y" if dash.token.endswith("x") else "x")   # one character off (never the token)
    status, body, _ = dash.get("?token=" + near, token=False)
    assert status == 302
    for path in ("api/kernels", f"api/kernels/{_pool_id(dash)}", "voila/static/voila.js",
                 "voila/api/themes/@jupyterlab/theme-light-extension/index.css"):
        status, body, _ = dash.get(path, token=False)
        assert status in (302, 403), (path, status)
        assert "execution_state" not in body
    assert _no_kernel_started(dash, before)
    # the login page is this project's own, with one field, and loads nothing
    status, body, headers = dash.get("login", token=False)
    assert status == 200 and 'name="password"' in body and "<script" not in body and "src=" not in body
    assert "Content-Security-Policy" in headers


def test_the_token_sets_an_httponly_samesite_session_cookie(dash):
    status, _, headers = dash.get("api/kernels?token=" + dash.token, token=False)
    assert status == 200
    cookie = " ".join(headers.get_all("Set-Cookie") or [])
    assert cookie.startswith("username-127-0-0-1-"), cookie
    low = cookie.lower()
    assert "httponly" in low and "samesite=lax" in low and "path=/" in low and "expires" not in low


def _ws(dash, path, *, token: bool, origin: str | None = None, host: str | None = None):
    """A WebSocket to the dashboard; ``host`` is the name in the URL (and so in ``Host``), the
    connection itself always goes to 127.0.0.1, as after a DNS rebinding."""
    headers = {"Authorization": f"token {dash.token}"} if token else {}
    sock = socket.create_connection(("127.0.0.1", dash.port), timeout=20)
    return websockets_sync.connect(f"ws://{host or f'127.0.0.1:{dash.port}'}/{path}", sock=sock,
                                   additional_headers=headers, origin=origin, open_timeout=20)


def _refused(dash, path, **kwargs) -> int:
    with pytest.raises(InvalidStatus) as exc:
        with _ws(dash, path, **kwargs):
            pass
    return exc.value.response.status_code


def test_websockets_need_the_token_and_a_local_origin(dash):
    pool = _pool_id(dash)
    same = f"http://127.0.0.1:{dash.port}"
    for path in (f"voila/query/{pool}", f"api/kernels/{pool}/channels"):
        assert _refused(dash, path, token=False) == 403, path
        assert _refused(dash, path, token=False, origin=same) == 403, path
        assert _refused(dash, path, token=True, origin="http://attacker.example") == 403, path
        assert _refused(dash, path, token=True, origin=f"http://localhost:{dash.port + 1}") == 403, path
        assert _refused(dash, path, token=True, origin=f"http://attacker.example:{dash.port}",
                        host=f"attacker.example:{dash.port}") == 403, path
    # the request-info socket is the page kernels' own: the token (or its cookie) does not open it,
    # nor a guessed kernel secret
    for kid in (pool, str(uuid.uuid4())):
        assert _refused(dash, f"voila/query/{kid}", token=True, origin=same) == 403
        assert _refused(dash, f"voila/query/{kid}", token=True) == 403
    sock = socket.create_connection(("127.0.0.1", dash.port), timeout=20)
    with pytest.raises(InvalidStatus) as exc:
        with websockets_sync.connect(f"ws://127.0.0.1:{dash.port}/voila/query/{pool}", sock=sock,
                                     additional_headers={"Authorization": "tftsr-kernel " + "x" * 43},
                                     open_timeout=20):
            pass
    assert exc.value.response.status_code == 403
    assert any(k["pooled"] for k in dash.kernels())


def test_a_page_with_the_token_renders_and_its_kernel_is_the_pool_one(dash):
    pool = _pool_id(dash)
    status, body, headers = dash.get("?token=" + dash.token, token=False)
    assert status == 200 and "jupyter-config-data" in body and pool in body
    assert "Content-Security-Policy" in headers
    assert any(c.startswith("_xsrf=") and "samesite=strict" in c.lower() for c in headers.get_all("Set-Cookie"))
    assert "import " not in body.split("jupyter-config-data")[1]  # sources stripped
