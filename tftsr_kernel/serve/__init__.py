"""Serving the dashboard to a team: access (token, session cookie, Host and Origin checks),
bounded kernels, and what a page's kernel knows about its request (deep links).

``plan`` and ``viewer`` import nothing heavy; ``app``, ``access`` and ``kernels`` import Voila and
jupyter_server and are only loaded by ``tftsr dashboard``."""

from .plan import DEFAULT_CULL_IDLE, DashboardPlan, HostPolicy, dashboard_plan, is_loopback

__all__ = ["DEFAULT_CULL_IDLE", "DashboardPlan", "HostPolicy", "dashboard_plan", "is_loopback"]
