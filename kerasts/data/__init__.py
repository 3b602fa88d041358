"""Data: bundled datasets and synthetic generators."""
