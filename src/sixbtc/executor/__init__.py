"""Executor: runs LIVE strategies on closed candles through a broker (paper by default)."""
