"""Metrics collector and health rules (SPEC §3.10): pure rules over what :mod:`.ports` reads.

:mod:`.pipeline` computes the parts of a snapshot (queues and back-pressure, the 24 h funnel,
time per stage, failures, pool statistics, re-tests, rotations); :mod:`.health` the overall
status; :mod:`.collector` puts one snapshot together.
"""
