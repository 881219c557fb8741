"""Compute back-ends of the backtester's grid runner port (Dask)."""
