"""Reading an uploaded kubeconfig: what may be listed (contexts, clusters, namespaces, server
URLs), never its credentials."""

from __future__ import annotations

import yaml

from .errors import KubeconfigError


def read_kubeconfig(text: str) -> dict:
    """{"current_context", "cluster_url", "contexts": [{"name", "cluster", "namespace", "user", "server"}]}."""
    if "\x00" in text:
        raise KubeconfigError("the kubeconfig holds NUL bytes (a binary file?); refused")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KubeconfigError(f"the kubeconfig is not valid YAML{where}; refused") from None
    if not isinstance(doc, dict) or doc.get("kind", "Config") != "Config" or not isinstance(doc.get("contexts"), list):
        raise KubeconfigError("not a kubeconfig (expected kind: Config with a contexts list)")
    clusters = {}
    for c in doc.get("clusters") or []:
        if isinstance(c, dict) and isinstance(c.get("cluster"), dict):
            clusters[str(c.get("name"))] = c["cluster"].get("server")
    contexts = []
    for c in doc["contexts"]:
        if not isinstance(c, dict) or not isinstance(c.get("context"), dict) or not c.get("name"):
            raise KubeconfigError("a context in the kubeconfig has no name or no context section")
        ctx = c["context"]
        cluster = str(ctx.get("cluster") or "")
        contexts.append({"name": str(c["name"]), "cluster": cluster, "namespace": str(ctx.get("namespace") or "default"),
                         "user": str(ctx.get("user") or ""), "server": clusters.get(cluster)})
    if not contexts:
        raise KubeconfigError("the kubeconfig has no contexts")
    current = doc.get("current-context") or contexts[0]["name"]
    if current not in [c["name"] for c in contexts]:
        raise KubeconfigError(f"the kubeconfig's current-context {current!r} is not one of its contexts")
    url = next(c["server"] for c in contexts if c["name"] == current)
    return {"current_context": str(current), "cluster_url": url, "contexts": contexts}
