"""``python -m tftsr_kernel.cli``: the same as the ``tftsr`` console script."""

from . import run

run()
