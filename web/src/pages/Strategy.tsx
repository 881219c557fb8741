import { useMemo, useState } from "react";
import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import type { SeriesMarker, Time } from "lightweight-charts";
import { fmt, pct, postAction, when, type EventRow } from "../api";
import { Card, CandleChart, LineChart, Table, useData, type Candle } from "../components";

hljs.registerLanguage("python", python);

type Metrics = Record<string, number | string | null>;
interface Result { kind: string; timeframe: string; symbol: string | null; score: number | null; oos: Metrics; is: Metrics }
interface Trade { id: number; symbol: string; direction: string; entry_ts: string; exit_ts: string;
  entry_price: number; exit_price: number; pnl_usd: number; exit_reason: string }
interface Detail {
  strategy: { id: number; name: string; type: string; source: string; status: string; timeframe: string | null;
    symbols: string[]; score: number | null; live_score: number | null; code_hash: string; trading_state: string };
  code: string; params: Record<string, unknown>; metrics: Metrics;
  results_by_timeframe: Result[]; results_by_coin: Result[];
  equity: { start: string; end: string; values: number[] } | null;
  trades: Trade[]; lineage: { operation: string | null; generation: number; parents: { name: string; id: number | null }[] };
  events: EventRow[];
}

const resultColumns = [
  { key: "kind", label: "kind" }, { key: "timeframe", label: "tf" },
  { key: "symbol", label: "coin", render: (r: Result) => r.symbol ?? "all" },
  { key: "sharpe", label: "OOS Sharpe", num: true, value: (r: Result) => r.oos.sharpe as number, render: (r: Result) => fmt(r.oos.sharpe) },
  { key: "ret", label: "OOS return", num: true, value: (r: Result) => r.oos.total_return as number, render: (r: Result) => pct(r.oos.total_return as number) },
  { key: "n", label: "OOS trades", num: true, value: (r: Result) => r.oos.n_trades as number, render: (r: Result) => fmt(r.oos.n_trades) },
  { key: "win", label: "win rate", num: true, value: (r: Result) => r.oos.win_rate as number, render: (r: Result) => pct(r.oos.win_rate as number) },
  { key: "is", label: "IS Sharpe", num: true, value: (r: Result) => r.is.sharpe as number, render: (r: Result) => fmt(r.is.sharpe) },
];

function Actions({ d, onDone }: { d: Detail; onDone: (msg: string) => void }) {
  const act = (what: string) => postAction(`/api/strategies/${d.strategy.id}/${what}`)
    .then(() => onDone(`${what}: done`)).catch((e: Error) => onDone(`${what}: ${e.message}`));
  const s = d.strategy;
  return (
    <div className="actions">
      {s.status === "LIVE" && s.trading_state === "ACTIVE" && <button onClick={() => act("pause")} data-testid="pause">Pause</button>}
      {s.trading_state !== "ACTIVE" && <button onClick={() => act("resume")} data-testid="resume">Resume</button>}
      {s.status === "ACTIVE" && <button onClick={() => act("retest")} data-testid="retest">Re-test</button>}
      {(s.status === "ACTIVE" || s.status === "LIVE") &&
        <button className="danger" onClick={() => window.confirm(`Retire ${s.name}?`) && act("retire")} data-testid="retire">Retire</button>}
    </div>
  );
}

export function StrategyPage({ id, version }: { id: string; version: number }) {
  const { data, error } = useData<Detail>(`/api/strategies/${id}`, version);
  const { data: cd } = useData<{ symbol: string; timeframe: string; candles: Candle[] }>(`/api/strategies/${id}/candles`, 0);
  const [msg, setMsg] = useState("");
  const code = useMemo(() => (data ? hljs.highlight(data.code, { language: "python" }).value : ""), [data?.code]);
  const equity = useMemo(() => {
    if (!data?.equity) return [];
    const t0 = Date.parse(data.equity.start) / 1000, t1 = Date.parse(data.equity.end) / 1000;
    const n = data.equity.values.length;
    return data.equity.values.map((v, i) => ({ time: Math.round(t0 + ((t1 - t0) * i) / Math.max(1, n - 1)), value: v }));
  }, [data?.equity]);
  const markers = useMemo(() => {
    const out: SeriesMarker<Time>[] = [];
    if (!data || !cd) return out;
    const secs = cd.timeframe.endsWith("h") ? 3600 * parseInt(cd.timeframe) : cd.timeframe.endsWith("m") ? 60 * parseInt(cd.timeframe) : 86400;
    const bar = (iso: string) => (Math.floor(Date.parse(iso) / 1000 / secs) * secs) as Time;
    for (const t of data.trades.filter((t) => t.symbol === cd.symbol)) {
      const long = t.direction === "long";
      out.push({ time: bar(t.entry_ts), position: long ? "belowBar" : "aboveBar", color: "#2962ff", shape: long ? "arrowUp" : "arrowDown", text: "in" });
      out.push({ time: bar(t.exit_ts), position: long ? "aboveBar" : "belowBar", color: t.pnl_usd >= 0 ? "#26a69a" : "#ef5350", shape: "circle", text: fmt(t.pnl_usd) });
    }
    return out.sort((a, b) => (a.time as number) - (b.time as number));
  }, [data, cd]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>loading…</p>;
  const s = data.strategy;
  return (
    <div className="grid">
      <Card title={s.name} testid="strategy-head">
        <p data-testid="strategy-status">{s.status}{s.trading_state !== "ACTIVE" ? ` (${s.trading_state})` : ""} · {s.type} · {s.source} · {s.timeframe ?? "–"} ·
          score {fmt(s.score, 1)} · live score {fmt(s.live_score, 1)} · coins {s.symbols.join(", ") || "–"}</p>
        <Actions d={data} onDone={setMsg} />
        {msg && <p className="msg" data-testid="action-msg">{msg}</p>}
      </Card>
      <Card title="Parameters and metrics">
        <dl className="kv" data-testid="params">{Object.entries(data.params).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{JSON.stringify(v)}</dd></div>)}</dl>
        <dl className="kv">{Object.entries(data.metrics).map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{fmt(v, 4)}</dd></div>)}</dl>
      </Card>
      <Card title="Source"><pre className="code"><code className="hljs" data-testid="code" dangerouslySetInnerHTML={{ __html: code }} /></pre></Card>
      <Card title="Results per timeframe"><Table testid="results-tf" rowKey={(r) => `${r.kind}${r.timeframe}`} rows={data.results_by_timeframe} columns={resultColumns} /></Card>
      <Card title="Results per coin"><Table testid="results-coin" rowKey={(r) => `${r.kind}${r.timeframe}${r.symbol}`} rows={data.results_by_coin} columns={resultColumns} /></Card>
      <Card title="OOS equity (1.0 = start)">{equity.length ? <LineChart points={equity} testid="equity-chart" /> : <p>no equity curve stored</p>}</Card>
      <Card title={`Trades on ${cd?.symbol ?? "…"} ${cd?.timeframe ?? ""}`}>
        {cd && cd.candles.length ? <CandleChart candles={cd.candles} markers={markers} testid="trade-chart" /> : <p>no candles</p>}
        <Table testid="trades" rowKey={(t) => t.id} rows={data.trades} empty="no paper trade yet" columns={[
          { key: "symbol", label: "coin" }, { key: "direction", label: "side" },
          { key: "entry_ts", label: "entry", render: (t) => when(t.entry_ts) }, { key: "exit_ts", label: "exit", render: (t) => when(t.exit_ts) },
          { key: "entry_price", label: "entry px", num: true, render: (t) => fmt(t.entry_price, 4) },
          { key: "exit_price", label: "exit px", num: true, render: (t) => fmt(t.exit_price, 4) },
          { key: "pnl_usd", label: "PnL USD", num: true, render: (t) => fmt(t.pnl_usd, 4) }, { key: "exit_reason", label: "exit" }]} />
      </Card>
      <Card title="Lineage">
        <p data-testid="lineage">{data.lineage.operation ? `${data.lineage.operation}, generation ${data.lineage.generation}, of ` : "generated from scratch"}
          {data.lineage.parents.map((p) => p.id ? <a key={p.name} href={`#/strategy/${p.id}`}>{p.name} </a> : <span key={p.name}>{p.name} </span>)}</p>
      </Card>
      <Card title="Events">
        <Table testid="events" rowKey={(e) => e.id} rows={data.events} columns={[
          { key: "ts", label: "time (UTC)", render: (e) => when(e.ts) }, { key: "from_status", label: "from" },
          { key: "to_status", label: "to", render: (e) => e.to_status ?? "deleted" }, { key: "reason", label: "reason" }, { key: "detail", label: "detail" }]} />
      </Card>
    </div>
  );
}
