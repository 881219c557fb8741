"""Command-line interface (Typer + Rich): thin commands that call one use case each."""
