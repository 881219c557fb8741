"""The strategy contract, the indicator library and sandboxed execution of strategy code."""
