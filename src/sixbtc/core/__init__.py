"""Errors, ids, clocks: the bottom layer; imports nothing from sixbtc."""
