"""Shell and kubectl execution in three tiers (``wb.shell``): the classifier, the runner, policies,
approvals, kubeconfigs and the model's ``run_shell_command`` tool."""

from .classify import Verdict, classify

__all__ = ["Verdict", "classify"]
