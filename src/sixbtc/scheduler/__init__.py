"""Scheduler stage (SPEC §3.9): the task table, how one run is guarded and recorded, and the
pure retention rules of the cleanup tasks."""
