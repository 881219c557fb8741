"""One claimed unit of work of a factory role, and what happens to it when it fails."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import structlog

from sixbtc.app.container import Container
from sixbtc.core.errors import ComputeUnavailable, StaleClaim
from sixbtc.domain.strategy import StrategyRecord, StrategyStatus

log = structlog.get_logger("sixbtc.claims")


@contextlib.contextmanager
def claim_guard(c: Container, rec: StrategyRecord, phase: str) -> Iterator[None]:
    """Run one claimed unit of work.

    A stale claim (another worker owns the strategy now) drops the work silently; an
    unreachable compute back-end (:class:`~sixbtc.core.errors.ComputeUnavailable`) gives the
    claim back and re-raises (the role logs it and retries later); an
    unexpected error marks the strategy FAILED with the error as reason (the worker goes on);
    a shutdown (SIGINT/SIGTERM arrive as ``KeyboardInterrupt``) gives the claim back and
    re-raises. Every log line written meanwhile carries ``strategy_id``, ``strategy`` and
    ``claim_token`` (:mod:`sixbtc.app.logs`).
    """
    try:
        with structlog.contextvars.bound_contextvars(strategy_id=rec.id, strategy=rec.name,
                                                     claim_token=rec.claim_token):
            log.debug("claimed", phase=phase)
            yield
            log.info("processed", phase=phase)
    except StaleClaim:
        pass
    except ComputeUnavailable:  # the cluster's fault, not the strategy's: give it back, retry later
        c.strategies.release(rec.id, rec.claim_token)
        raise
    except Exception as exc:  # noqa: BLE001 — an unexpected error fails this strategy, not the worker
        log.error("failed", strategy_id=rec.id, strategy=rec.name, phase=phase, error=f"{type(exc).__name__}: {exc}")
        _fail(c, rec, phase, exc)
    except BaseException:
        c.strategies.release(rec.id, rec.claim_token)
        raise


def _fail(c: Container, rec: StrategyRecord, phase: str, exc: Exception) -> None:
    with contextlib.suppress(StaleClaim):
        c.strategies.transition(rec.id, rec.claim_token, StrategyStatus.FAILED, phase=phase,
                                reason=f"error:{type(exc).__name__}", detail=str(exc)[:1000])
