"""Frozen dataclasses and StrEnums shared by every stage."""
