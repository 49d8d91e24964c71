"""skdistill: knowledge distillation for tabular data."""
