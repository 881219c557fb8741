"""Rotator: fills free LIVE slots from the top of the ACTIVE pool (SPEC §3.6)."""
