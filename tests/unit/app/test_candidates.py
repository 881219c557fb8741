"""Figures of a refused strategy carried in its rejection event's detail."""

from __future__ import annotations

from sixbtc.app.candidates import MARKER, MAX_TEXT, parse_figures, with_figures


def test_figures_round_trip_through_the_detail_text() -> None:
    fig = {"dsr": 0.42, "pbo": None, "timeframe": "1h", "oos_trades": 31}
    detail = with_figures("IS Sharpe 1.20 -> OOS 0.10 (92% > 60%)", fig)
    assert parse_figures(detail) == ("IS Sharpe 1.20 -> OOS 0.10 (92% > 60%)", fig)
    assert with_figures("plain", None) == "plain" and parse_figures("plain") == ("plain", None)


def test_a_long_detail_is_cut_so_the_figures_fit_the_event_column() -> None:
    detail = with_figures("x" * 5000, {"dsr": 0.1})
    assert len(detail) < 2000 and parse_figures(detail) == ("x" * MAX_TEXT, {"dsr": 0.1})


def test_unreadable_figures_leave_the_detail_as_it_is() -> None:
    broken = "text" + MARKER + "{not json"
    assert parse_figures(broken) == (broken, None)
    assert parse_figures("text" + MARKER + "[1, 2]") == ("text" + MARKER + "[1, 2]", None)
