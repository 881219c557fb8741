// Small shared pieces: a sortable table, a data loader hook, charts.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import {
  CandlestickSeries, ColorType, HistogramSeries, LineSeries, createChart, createSeriesMarkers,
  type IChartApi, type SeriesMarker, type Time, type UTCTimestamp,
} from "lightweight-charts";
import { getJson } from "./api";

/** Fetch `path` now and again whenever `version` changes (a WebSocket change). */
export function useData<T>(path: string | null, version: number): { data: T | null; error: string | null } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!path) return;
    let live = true;
    getJson<T>(path).then((d) => { if (live) { setData(d); setError(null); } })
      .catch((e: Error) => { if (live) setError(e.message); });
    return () => { live = false; };
  }, [path, version]);
  return { data, error };
}

export interface Column<R> {
  key: string;
  label: string;
  render?: (row: R) => ReactNode;
  value?: (row: R) => number | string | null;
  num?: boolean;
}

/** A table sortable by clicking a header (numbers descending first). */
export function Table<R>({ rows, columns, testid, rowKey, empty = "nothing yet" }:
  { rows: R[]; columns: Column<R>[]; testid: string; rowKey: (r: R) => string | number; empty?: string }) {
  const [sort, setSort] = useState<{ key: string; asc: boolean } | null>(null);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const col = columns.find((c) => c.key === sort.key);
    const val = (r: R) => (col?.value ? col.value(r) : (r as Record<string, unknown>)[sort.key]) as
      number | string | null;
    return [...rows].sort((a, b) => {
      const x = val(a), y = val(b);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * (sort.asc ? 1 : -1);
    });
  }, [rows, columns, sort]);
  const click = (key: string) =>
    setSort((s) => (s && s.key === key ? { key, asc: !s.asc } : { key, asc: false }));
  return (
    <table data-testid={testid}>
      <thead>
        <tr>{columns.map((c) => (
          <th key={c.key} className={c.num ? "num" : ""} onClick={() => click(c.key)} data-col={c.key}>
            {c.label}{sort?.key === c.key ? (sort.asc ? " ▲" : " ▼") : ""}
          </th>))}
        </tr>
      </thead>
      <tbody>
        {sorted.length === 0 && <tr><td colSpan={columns.length} className="empty">{empty}</td></tr>}
        {sorted.map((r) => (
          <tr key={rowKey(r)}>
            {columns.map((c) => (
              <td key={c.key} className={c.num ? "num" : ""} data-col={c.key}>
                {c.render ? c.render(r) : String((r as Record<string, unknown>)[c.key] ?? "–")}
              </td>))}
          </tr>))}
      </tbody>
    </table>
  );
}

const THEME = { layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#334" },
  grid: { vertLines: { color: "#eef" }, horzLines: { color: "#eef" } }, height: 260,
  timeScale: { timeVisible: true, secondsVisible: false } };

function useChart(build: (chart: IChartApi) => void, deps: unknown[]) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = createChart(ref.current, { ...THEME, width: ref.current.clientWidth || 600 });
    build(chart);
    chart.timeScale().fitContent();
    return () => chart.remove();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}

export function LineChart({ points, testid }: { points: { time: number; value: number }[]; testid: string }) {
  const ref = useChart((chart) => {
    chart.addSeries(LineSeries, { color: "#2962ff", lineWidth: 2 })
      .setData(points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
  }, [points]);
  return <div className="chart" ref={ref} data-testid={testid} />;
}

export function BarsChart({ series, testid }:
  { series: { name: string; color: string; points: { time: number; value: number }[] }[]; testid: string }) {
  const ref = useChart((chart) => {
    for (const s of series) {
      chart.addSeries(HistogramSeries, { color: s.color, title: s.name })
        .setData(s.points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    }
  }, [series]);
  return <div className="chart" ref={ref} data-testid={testid} />;
}

export interface Candle { time: number; open: number; high: number; low: number; close: number }

export function CandleChart({ candles, markers, testid }:
  { candles: Candle[]; markers: SeriesMarker<Time>[]; testid: string }) {
  const ref = useChart((chart) => {
    const s = chart.addSeries(CandlestickSeries, {});
    s.setData(candles.map((c) => ({ ...c, time: c.time as UTCTimestamp })));
    createSeriesMarkers(s, markers);
  }, [candles, markers]);
  return <div className="chart" ref={ref} data-testid={testid} />;
}

export function Card({ title, children, testid }: { title: string; children: ReactNode; testid?: string }) {
  return <section className="card" data-testid={testid}><h2>{title}</h2>{children}</section>;
}
