"""Grid simulations fanned out to a Dask cluster (``backtest.executor: dask``).

Implements :class:`sixbtc.backtester.ports.GridRunner` with ``dask.distributed``: a rung's
jobs (:class:`~sixbtc.backtester.grid_jobs.GridJob`, one per coin, signals already computed
in the backtest worker's sandbox) are submitted with ``Client.map`` and gathered in order;
each Dask worker runs :func:`~sixbtc.backtester.grid_jobs.run_grid_job`, the routine the
in-process runner calls, so the results are identical. A rung of fewer than ``min_sets``
parameter sets x coins runs in this process (the round trip costs more than it saves).
Workers need the ``sixbtc`` package (same version) importable; no strategy code, database or
candle store is reached from them.

The client connects lazily on the first fanned-out rung (``timeout_s`` to reach the
scheduler) and is closed by :meth:`DaskGridRunner.close`. ``distributed`` is imported then,
not with this module: it takes seconds to import, and every process builds a container.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sixbtc.backtester.grid_jobs import GridJob, LocalGridRunner, run_grid_job
from sixbtc.backtester.metrics import GridResult
from sixbtc.core.errors import ComputeUnavailable

if TYPE_CHECKING:
    from distributed import Client


class DaskUnavailable(ComputeUnavailable):
    """The Dask scheduler could not be reached, or a fanned-out rung was lost on the cluster
    (the claim is given back: :func:`sixbtc.app.claim_guard.claim_guard`)."""


class DaskGridRunner:
    """A :class:`~sixbtc.backtester.ports.GridRunner` on a Dask cluster.

    Parameters
    ----------
    address : str
        Scheduler address (``tcp://host:8786``; ``inproc://…`` of an in-process LocalCluster).
    min_sets : int
        Smallest ``sum(job.n_sets)`` of a rung that is fanned out (>= 1).
    timeout_s : float
        Seconds to connect, and to wait for one rung's results.
    """

    def __init__(self, address: str, min_sets: int = 64, timeout_s: float = 600.0) -> None:
        self.address, self.min_sets, self.timeout_s = address, min_sets, timeout_s
        self._client: Client | None = None
        self._lock = threading.Lock()
        self._local = LocalGridRunner()
        self.fanned_out = 0  # rungs sent to the cluster (for tests and benchmarks)

    def _connect(self) -> Client:
        with self._lock:
            if self._client is None:
                from distributed import Client  # noqa: PLC0415 — lazy: see the module docstring

                try:
                    self._client = Client(self.address, timeout=self.timeout_s, set_as_default=False)
                except OSError as exc:  # distributed raises OSError (TimeoutError) when unreachable
                    raise DaskUnavailable(f"Dask scheduler {self.address} unreachable "
                                          f"(backtest.dask_scheduler): {exc}") from exc
            return self._client

    def run(self, jobs: Sequence[GridJob]) -> list[GridResult]:
        """Results of ``jobs`` in their order (on the cluster when the rung is heavy enough).

        Raises
        ------
        DaskUnavailable
            If the scheduler cannot be reached or a job failed or timed out on the cluster.
        """
        if sum(j.n_sets for j in jobs) < self.min_sets:
            return self._local.run(jobs)
        client = self._connect()
        futures = client.map(run_grid_job, list(jobs), pure=False)
        deadline = time.monotonic() + self.timeout_s
        try:
            results = [f.result(timeout=max(0.0, deadline - time.monotonic())) for f in futures]
        except (OSError, TimeoutError) as exc:
            client.cancel(futures)
            raise DaskUnavailable(f"grid rung on {self.address} failed: {type(exc).__name__}: {exc}") from exc
        self.fanned_out += 1
        return list(results)

    def close(self) -> None:
        """Close the client (the cluster keeps running)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
