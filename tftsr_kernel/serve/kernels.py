"""Bounded dashboard kernels: a kernel lives while its page is open.

jupyter_server's own culler does most of it (``cull_idle_timeout``, ``cull_interval``; kernels
with an open page are never culled because ``cull_connected`` stays False), and Voila's pool
manager keeps the preheated kernel out of it. What neither does is the case of a page that is
served but never opened (a health probe, ``curl /``, a browser that gave up): that kernel never
gets a WebSocket connection, so it would sit there until the idle timeout. Here such a kernel is
shut down ``connect_grace`` seconds after it left the pool (or was started for a request).

Voila wraps this class in its pool manager (``VoilaConfiguration.multi_kernel_manager_class``),
so the pool's own methods (``_pools``, ``cull_kernel_if_idle``) sit above these in the MRO.
"""

from __future__ import annotations

import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Int

#: team mode: kernel id -> the session whose page it serves (set by the page handler, read by the
#: access guard on the kernel's channels, REST entry and shutdown; forgotten when it shuts down)
KERNEL_OWNERS: dict[str, str] = {}


def cull_interval(cull_idle: float, grace: float) -> int:
    """How often the culler looks (seconds): often enough that a kernel outlives its timeout
    by at most a third of it, and never less than a second or more than ten."""
    return int(max(1, min(10, min(cull_idle, grace) // 3)))


class DashboardKernelManager(AsyncMappingKernelManager):
    connect_grace = Float(30.0, config=True,
                          help="Shut down a kernel that no browser connected to within this many seconds "
                               "of its page being served.")

    max_kernels = Int(50, config=True,
                      help="Refuse a new page (503) while this many pages already have a kernel; "
                           "the preheated kernel is not counted.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._ever_connected: set[str] = set()
        self._unpooled_since: dict[str, float] = {}

    # -- bookkeeping -----------------------------------------------------------------------------
    def notify_connect(self, kernel_id):
        self._ever_connected.add(kernel_id)
        return super().notify_connect(kernel_id)

    def pooled_kernel_ids(self) -> set[str]:
        """Kernels waiting in Voila's preheated pool (never culled)."""
        out = set()
        for pool in getattr(self, "_pools", {}).values():
            for fut in pool:
                try:
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        out.add(fut.result().get("kernel_id"))
                except Exception:  # noqa: BLE001 - a failed pool start is Voila's to report
                    continue
        out.discard(None)
        return out

    def page_kernel_count(self) -> int:
        """Kernels serving a page (or started for one): every kernel but the pool's."""
        return len(set(self._kernels) - self.pooled_kernel_ids())

    def kernel_report(self) -> list[dict]:
        """Every kernel: id, state, connections, whether it is the pool's, and its process id."""
        pooled = self.pooled_kernel_ids()
        out = []
        for kid in list(self._kernels):
            km = self._kernels[kid]
            proc = getattr(getattr(km, "provisioner", None), "process", None)
            out.append({"id": kid, "execution_state": getattr(km, "execution_state", None),
                        "connections": self._kernel_connections.get(kid, 0), "pooled": kid in pooled,
                        "ever_connected": kid in self._ever_connected,
                        "pid": getattr(proc, "pid", None)})
        return out

    # -- culling ---------------------------------------------------------------------------------
    async def cull_kernels(self):
        now = time.monotonic()
        pooled = self.pooled_kernel_ids()
        for kid in list(self._kernels):
            if kid in pooled:
                self._unpooled_since.pop(kid, None)
                continue
            if kid in self._ever_connected:
                continue
            since = self._unpooled_since.setdefault(kid, now)
            if now - since >= self.connect_grace:
                self.log.info("Shutting down kernel %s: no browser connected within %.0f s of its page",
                              kid, self.connect_grace)
                try:
                    await self.shutdown_kernel(kid)
                except Exception as exc:  # noqa: BLE001 - keep culling the others
                    self.log.warning("Could not shut down kernel %s: %s", kid, exc)
        await super().cull_kernels()  # jupyter_server: idle and disconnected for cull_idle_timeout

    async def cull_kernel_if_idle(self, kernel_id):
        if kernel_id not in self._ever_connected:
            return None  # handled above: its page gets connect_grace, not the idle timeout
        return await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        try:
            return await super().shutdown_kernel(kernel_id, *args, **kwargs)
        finally:
            self._ever_connected.discard(kernel_id)
            self._unpooled_since.pop(kernel_id, None)
            _forget_request_info(kernel_id)


def _forget_request_info(kernel_id: str) -> None:
    """Voila keeps each page's request info by kernel id for as long as the server runs."""
    try:
        from voila.request_info_handler import RequestInfoSocketHandler
    except ImportError:  # pragma: no cover
        KERNEL_OWNERS.pop(kernel_id, None)
        return
    KERNEL_OWNERS.pop(kernel_id, None)
    RequestInfoSocketHandler._cache.pop(kernel_id, None)
    RequestInfoSocketHandler._waiters.pop(kernel_id, None)
