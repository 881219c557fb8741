"""Composition root: builds adapters from settings and runs the pipeline's roles."""
