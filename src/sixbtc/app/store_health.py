"""Store health use cases: ``sixbtc data verify`` and ``sixbtc data fill-gaps`` (SPEC §3.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sixbtc.adapters.storage.candle_verify import leftover_temp_files, series_names, verify_store
from sixbtc.app.container import Container
from sixbtc.app.market import market_client
from sixbtc.data.downloader import DownloadResult, download
from sixbtc.data.gaps import GapFill, fill_gaps
from sixbtc.data.health import FileCheck
from sixbtc.data.ports import MarketDataClient

Progress = Callable[[str], None]


def verify(c: Container, progress: Progress | None = None) -> tuple[list[FileCheck], list[str]]:
    """Every store file checked as on disk (nothing changed), and leftover temp files."""
    return verify_store(c.store.root, c.clock, progress), leftover_temp_files(c.store.root)


@dataclass
class HealReport:
    """What :func:`heal_and_fill` did.

    Attributes
    ----------
    quarantined : list of (symbol, timeframe)
        Series whose file was unreadable, of the wrong schema, truncated or holding less than
        its sidecar, moved to ``quarantine/``.
    downloads : list of DownloadResult
        The full re-download of each quarantined series.
    fills : list of GapFill
        One per stored series: gaps asked from the venue, candles filled, known gaps recorded.
    """

    quarantined: list[tuple[str, str]] = field(default_factory=list)
    downloads: list[DownloadResult] = field(default_factory=list)
    fills: list[GapFill] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no download or gap fill failed."""
        return not any(r.error for r in self.downloads) and not any(f.error for f in self.fills)


def heal_and_fill(c: Container, *, client: MarketDataClient | None = None, progress: Progress | None = None,
                  symbols: set[str] | None = None, timeframes: set[str] | None = None) -> HealReport:
    """Quarantine broken candle files and download them again, then fill every series' gaps.

    Reading each series through the store quarantines what cannot be trusted (see
    :mod:`sixbtc.adapters.storage.candle_reader` and the sidecar rule of the store); each
    quarantined series is downloaded again in full (``data.history_days``); then
    :func:`~sixbtc.data.gaps.fill_gaps` runs on every stored series (``symbols`` /
    ``timeframes`` filter both).

    Raises
    ------
    NetworkUnavailable
        When the venue cannot be reached (quarantines already done are kept).
    """
    report = HealReport()
    wanted = [(s, tf) for s, tf in series_names(c.store.root)
              if (symbols is None or s in symbols) and (timeframes is None or tf in timeframes)]
    for symbol, tf in wanted:
        if progress is not None:
            progress(f"{symbol} {tf}")
        if c.store.entry(symbol, tf) is None:
            report.quarantined.append((symbol, tf))
    client = client or market_client(c)
    now_ms = int(c.clock.now().timestamp() * 1000)
    for symbol, tf in report.quarantined:
        report.downloads += download(client, c.store, [symbol], [tf], history_days=c.settings.data.history_days,
                                     now_ms=now_ms, funding=False)
    for symbol, tf in wanted:
        if progress is not None:
            progress(f"{symbol} {tf} gaps")
        if c.store.has(symbol, tf):
            report.fills.append(fill_gaps(client, c.store, symbol, tf, now_ms=now_ms))
    return report
