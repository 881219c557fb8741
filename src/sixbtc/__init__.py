"""SixBTC: an unattended strategy factory for crypto perpetual futures."""

__version__ = "0.1.0"
