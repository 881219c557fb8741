"""The ACTIVE pool: a bounded leaderboard with the four entry rules of SPEC §3.5."""
