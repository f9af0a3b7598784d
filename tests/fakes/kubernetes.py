"""A local Kubernetes API server for the requests ``kubectl get pods`` makes, over real HTTPS.

It serves TLS with a certificate made for 127.0.0.1 at start (kubectl sends a bearer token only
over TLS); the kubeconfig it writes carries that certificate as ``certificate-authority-data``.

It follows the documented API (https://kubernetes.io/docs/reference/using-api/api-concepts/):
``GET /version`` (version.Info), the discovery documents ``GET /api`` (APIVersions),
``GET /apis`` (APIGroupList, no groups), ``GET /api/v1`` (APIResourceList with pods and
namespaces), and ``GET /api/v1/namespaces/NS/pods`` (a v1 PodList; kubectl asks for a Table
in its Accept header and accepts the plain list). Every request needs ``Authorization: Bearer
TOKEN``; otherwise a 401 v1 Status. Requests are recorded (method, path, authorization ok), and
the clients' User-Agent headers (which kubectl built them).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


#: a kubeconfig with two contexts of one cluster and a planted token (no server behind it)
SAMPLE_KUBECONFIG = """apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443"}
contexts:
- name: prod
  context: {cluster: c1, user: u1, namespace: payments}
- name: stage
  context: {cluster: c1, user: u1}
users:
- name: u1
  user: {token: sekrit-token-value-123456}
"""


class FakeKubeAPI:
    def __init__(self, token: str, pods: dict[str, list[str]] | None = None):
        self.token = token
        self.pods = pods or {"default": ["checkout-7d9f-abcde", "checkout-7d9f-fghij"]}
        self.requests: list[tuple[str, str, bool]] = []
        self.user_agents: set[str] = set()
        self._srv = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._srv.server_address[1]}"

    def kubeconfig(self, *, namespace: str = "default", context: str = "fake-ctx") -> str:
        return (f"apiVersion: v1\nkind: Config\ncurrent-context: {context}\n"
                f"clusters:\n- name: fake-cluster\n  cluster:\n    server: {self.url}\n"
                f"    certificate-authority-data: {base64.b64encode(self._cert_pem).decode()}\n"
                f"contexts:\n- name: {context}\n  context:\n    cluster: fake-cluster\n    user: fake-user\n"
                f"    namespace: {namespace}\n"
                f"users:\n- name: fake-user\n  user:\n    token: {self.token}\n")

    def __enter__(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, doc):
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = urlsplit(self.path).path
                ok = self.headers.get("Authorization") == f"Bearer {api.token}"
                api.requests.append(("GET", path, ok))
                api.user_agents.add(self.headers.get("User-Agent", ""))
                if not ok:
                    return self._send(401, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                            "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
                if path == "/version":
                    return self._send(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0",
                                            "platform": "linux/amd64"})
                if path == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
                if path == "/apis":
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
                if path == "/api/v1":
                    verbs = ["get", "list", "watch"]
                    return self._send(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": verbs,
                         "shortNames": ["po"]},
                        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
                         "verbs": verbs, "shortNames": ["ns"]}]})
                parts = path.strip("/").split("/")
                if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
                    ns = parts[3]
                    items = [{"metadata": {"name": n, "namespace": ns, "uid": f"uid-{i}",
                                           "creationTimestamp": "2026-12-01T09:00:00Z"},
                              "spec": {"containers": [{"name": "app", "image": "checkout:1.4"}]},
                              "status": {"phase": "Running"}} for i, n in enumerate(api.pods.get(ns, []))]
                    return self._send(200, {"kind": "PodList", "apiVersion": "v1",
                                            "metadata": {"resourceVersion": "1"}, "items": items})
                return self._send(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "message": f"the server could not find the requested resource ({path})",
                                        "reason": "NotFound", "code": 404})

        self._srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cert, key = _self_signed()
        self._cert_pem = cert
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            cf, kf = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
            open(cf, "wb").write(cert)
            open(kf, "wb").write(key)
            ctx.load_cert_chain(cf, kf)
        self._srv.socket = ctx.wrap_socket(self._srv.socket, server_side=True)
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._srv.shutdown()
        self._srv.server_close()


def _self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-apiserver")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
