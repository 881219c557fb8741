"""Monitor: live metrics, live score and retirement of LIVE strategies (SPEC §3.8)."""
