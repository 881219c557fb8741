"""Adapters: all third-party I/O (exchanges, storage, notifications), translated at the edge."""
