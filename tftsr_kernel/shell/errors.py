"""Errors of the shell service."""

from __future__ import annotations

from ..errors import TftsrError, ValidationError


class ShellError(TftsrError):
    """A command could not be started or its run could not be recorded."""


class KubeconfigError(ValidationError):
    """An uploaded kubeconfig was refused (not YAML, not a kubeconfig, binary or too large)."""
