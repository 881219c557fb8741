"""Metrics exporters (prometheus-client)."""
