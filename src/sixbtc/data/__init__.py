"""Market-data stage: candle validation, local import, venue download and replay feed.

Stage package: imports only ``sixbtc.domain``, ``sixbtc.core`` and ``sixbtc.strategy``; the
storage and venue implementations it needs are declared in :mod:`sixbtc.data.ports`.
"""
