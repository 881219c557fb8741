"""Composition root: builds adapters from settings and runs the pipeline's roles."""

from sixbtc.app.logs import route_to_stdlib

route_to_stdlib()  # structlog lines go through ``logging`` (configured per process by app.logs)
