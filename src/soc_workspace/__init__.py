"""soc-workspace."""
