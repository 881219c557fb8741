"""Issue 13, the crash listener's protocol: READY, one event, RESULT 2 OK; crashes only."""

from __future__ import annotations

import io

from sixbtc.adapters.supervisor.events import Crash, crash_events, parse


def _event(name: str, payload: str) -> str:
    return (f"ver:3.0 server:supervisor serial:1 pool:l poolserial:1 eventname:{name} len:{len(payload)}\n"
            + payload)


def test_parse_keeps_unexpected_exits_and_fatal_starts() -> None:
    exited = "processname:sixbtc-rotator groupname:trading from_state:RUNNING expected:0 pid:4242"
    assert parse("PROCESS_STATE_EXITED", exited) == Crash("PROCESS_STATE_EXITED", "trading", "sixbtc-rotator", 4242,
                                                          "RUNNING")
    assert parse("PROCESS_STATE_EXITED", exited.replace("expected:0", "expected:1")) is None
    fatal = "processname:sixbtc-api groupname:orchestration from_state:BACKOFF"
    assert parse("PROCESS_STATE_FATAL", fatal).pid is None


def test_every_event_is_acknowledged_and_only_crashes_are_yielded() -> None:
    stdin = io.StringIO(_event("PROCESS_STATE_EXITED", "processname:a groupname:g from_state:RUNNING expected:1 pid:1")
                        + _event("PROCESS_STATE_EXITED", "processname:b groupname:g from_state:RUNNING expected:0 pid:2"))
    stdout = io.StringIO()
    got = list(crash_events(stdin, stdout))
    assert [c.process for c in got] == ["b"]
    assert stdout.getvalue() == "READY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\n"
