"""Typed settings: one tree loaded once at the entry point and passed down."""

from sixbtc.config.loader import load_settings, render_default_yaml
from sixbtc.config.settings import Settings

__all__ = ["Settings", "load_settings", "render_default_yaml"]
