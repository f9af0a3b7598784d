"""Log templates: Drain mining, timestamps, bursts (``wb.logs``) and evidence extraction."""

from .mine import Burst, Template, TemplateSet, mine_lines

__all__ = ["Burst", "Template", "TemplateSet", "mine_lines"]
