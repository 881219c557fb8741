"""HTTP API and dashboard server (an entry point, like ``cli``)."""
