"""Issue 13, ``sixbtc supervisor-config``: what the generated supervisord file says."""

from __future__ import annotations

import configparser
from pathlib import Path

from sixbtc.app.container import Container
from sixbtc.app.home import Home
from sixbtc.app.supervisor import available_roles, write_config
from sixbtc.config import Settings


def test_config_has_groups_priorities_restarts_rotation_and_the_listener(tmp_path: Path) -> None:
    c = Container(Home(tmp_path / "home"), Settings(processes={"validators": 3, "stop_timeout_s": 12,
                                                               "log_max_bytes": 1234, "log_backups": 4}))
    path = write_config(c)
    ini = configparser.RawConfigParser()
    ini.read(path)
    roles = available_roles()
    assert {"generator", "validator", "backtester", "rotator", "executor", "monitor", "api"} <= set(roles)
    groups = {s.split(":", 1)[1]: ini[s]["programs"].split(",") for s in ini.sections() if s.startswith("group:")}
    assert groups["pipeline"] == ["sixbtc-generator", "sixbtc-validator", "sixbtc-backtester"]
    assert groups["trading"] == ["sixbtc-rotator", "sixbtc-executor", "sixbtc-monitor"]
    assert "sixbtc-api" in groups["orchestration"]
    prio = {r: int(ini[f"program:sixbtc-{r}"]["priority"]) for r in roles}
    assert prio["api"] < prio["rotator"] < prio["executor"] < prio["generator"] < prio["validator"]
    assert ini["program:sixbtc-generator"]["numprocs"] == str(c.settings.generator.workers)
    v = ini["program:sixbtc-validator"]
    assert v["numprocs"] == "3" and "%(process_num)02d" in v["process_name"]
    assert v["command"].endswith(f"--home {c.home.root.resolve()} worker validator")
    for r in roles:
        p = ini[f"program:sixbtc-{r}"]
        assert p["autorestart"] == "true" and p["stopsignal"] == "TERM" and int(p["stopwaitsecs"]) > 12
        assert p["stdout_logfile_maxbytes"] == "1234" and p["stdout_logfile_backups"] == "4"
        assert p["stdout_logfile"].startswith(str(c.home.root.resolve() / "logs"))
    listener = ini["eventlistener:sixbtc-crash-listener"]
    assert listener["events"] == "PROCESS_STATE_EXITED,PROCESS_STATE_FATAL"
    assert listener["command"].endswith("supervisor-listener")
    assert ini["unix_http_server"]["file"].endswith("run/supervisor.sock") and ini["unix_http_server"]["chmod"] == "0700"
    assert (c.home.root / "run").stat().st_mode & 0o777 == 0o700
