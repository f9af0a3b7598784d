"""The demo incident: a sample issue with a sample log written by this project (no real data)."""

from __future__ import annotations

from . import paths

DEMO_TITLE = "Checkout API returning 503s after the 14:00 deploy"
DEMO_DESCRIPTION = (
    "From 14:05 UTC the checkout service answered about 30% of requests with HTTP 503. "
    "Payment confirmations were delayed. The 14:00 deploy changed the database pool settings."
)
SAMPLE_LOG = "checkout-service.log"


def create_demo(wb):
    """Create the sample incident and attach the sample log; returns (issue, log_file)."""
    issue = wb.issues.create_issue(DEMO_TITLE, DEMO_DESCRIPTION, "high", "application",
                                   source="demo", tags=["demo", "checkout"])
    log = wb.attachments.upload_log_file(issue.id, paths.sample_data_dir() / SAMPLE_LOG)
    return issue, log
