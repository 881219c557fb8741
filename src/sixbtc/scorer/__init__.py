"""Scores on a 0–100 scale from backtest or live metrics (SPEC §3.5)."""
