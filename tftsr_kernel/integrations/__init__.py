"""Integrations: Confluence, ServiceNow and Azure DevOps (``wb.integrations``).

- ``service.py``: the service behind the façade (configuration, OAuth2 login, publishing,
  tickets, links), every outgoing text through the egress guard;
- ``confluence.py``, ``servicenow.py``, ``azuredevops.py``: one module per wire format, over the
  shared HTTP helper ``_http.py`` (timeouts, bounded 429 retries, typed errors);
- ``credentials.py``: the encrypted ``credentials`` table; ``oauth.py``: PKCE + state, the CLI's
  loopback listener and the dashboard's callback handler; ``storage.py``: Markdown to
  Confluence storage format.
"""

from .models import ConnectionResult, PublishResult, TicketResult

__all__ = ["ConnectionResult", "PublishResult", "TicketResult"]
