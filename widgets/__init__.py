"""ipywidgets panels: thin views over tftsr_kernel. No SQL here."""
