"""TFTSR Workbench kernel: encrypted incident store, PII redaction, AI, 5-Whys and documents.

    >>> import tftsr_kernel
    >>> wb = tftsr_kernel.open()          # TFTSR_DATA_DIR / TFTSR_DB_KEY, or the defaults
    >>> issue = wb.issues.create_issue("Checkout latency", severity="high")

The kernel imports no ipywidgets and displays nothing. Heavy modules load on first use, so
``tftsr pii redact`` starts fast.
"""

from . import errors
from .errors import TftsrError

__version__ = "0.1.0"
__all__ = ["open", "Workbench", "TftsrError", "errors", "__version__"]


def __getattr__(name):
    if name in ("open", "Workbench"):
        from . import workbench

        return getattr(workbench, name)
    raise AttributeError(f"module 'tftsr_kernel' has no attribute {name!r}")
