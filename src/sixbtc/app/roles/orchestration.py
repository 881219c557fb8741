"""The scheduler role (the api role lives with the API: :mod:`sixbtc.api.role`).

The scheduler role runs the
scheduled tasks of SPEC §3.9 when this build has the :mod:`sixbtc.scheduler` stage; without it
the role refuses to start with :class:`~sixbtc.core.errors.ConfigError`.
"""

from __future__ import annotations

import importlib
import importlib.util

from sixbtc.app.roles.runtime import RoleRuntime
from sixbtc.core.errors import ConfigError

SCHEDULER_STAGE = "sixbtc.scheduler"


def run_scheduler(rt: RoleRuntime) -> None:
    """Run the scheduled tasks until stopped.

    Raises
    ------
    ConfigError
        When this build has no scheduler stage ("scheduler not available").
    """
    if importlib.util.find_spec(SCHEDULER_STAGE) is None:
        raise ConfigError("scheduler not available: this build has no sixbtc.scheduler stage "
                          "(`sixbtc worker scheduler` cannot run)")
    raise ConfigError("scheduler not available: the sixbtc.scheduler stage is not wired to a role yet")
