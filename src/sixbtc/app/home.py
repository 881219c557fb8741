"""The SixBTC home directory: config, database, candle store and temp files in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path(".sixbtc")


@dataclass(frozen=True)
class Home:
    """Paths under one home directory (default ``./.sixbtc``, override with ``SIXBTC_HOME``)."""

    root: Path

    @property
    def config_path(self) -> Path:
        """``config.yaml``."""
        return self.root / "config.yaml"

    @property
    def db_path(self) -> Path:
        """The embedded SQLite database."""
        return self.root / "sixbtc.db"

    @property
    def store_dir(self) -> Path:
        """The Parquet candle store (SPEC §3.1 ``data/binance``)."""
        return self.root / "data" / "binance"

    @property
    def tmp_dir(self) -> Path:
        """Project temp files (cleaned by the scheduler after 24 h)."""
        return self.root / "tmp"

    def ensure(self) -> Home:
        """Create the directories; return self."""
        for path in (self.root, self.store_dir, self.tmp_dir):
            path.mkdir(parents=True, exist_ok=True)
        return self


def resolve_home(explicit: Path | None = None) -> Home:
    """The home given explicitly, else ``$SIXBTC_HOME``, else ``./.sixbtc`` (absolute)."""
    raw = explicit or (Path(os.environ["SIXBTC_HOME"]) if os.environ.get("SIXBTC_HOME") else DEFAULT_HOME)
    return Home(raw.expanduser().resolve())
