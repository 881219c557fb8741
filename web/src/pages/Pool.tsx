import { useState } from "react";
import { fmt, pct, when } from "../api";
import { Card, Table, useData } from "../components";

export interface PoolRow {
  id: number; status: string; source: string; trading_state: string; name: string; type: string;
  timeframe: string | null; score: number | null; dsr: number | null; pbo: number | null;
  trials: number | null; oos_sharpe: number | null; confirm_return: number | null;
  confirm_percentile: number | null; last_retest_at: string | null; last_backtested_at: string | null;
}

const TYPES = ["", "MOM", "REV", "TRN", "BRK", "VOL", "GRD"];
const TIMEFRAMES = ["", "15m", "30m", "1h", "4h", "1d"];
const SOURCES = ["", "template", "unger", "pattern", "grid", "llm", "user"];

function Select({ label, value, options, onChange }:
  { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  return (
    <label>{label}{" "}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={`filter-${label}`}>
        {options.map((o) => <option key={o} value={o}>{o || "all"}</option>)}
      </select>
    </label>
  );
}

export function PoolPage({ version }: { version: number }) {
  const [type, setType] = useState("");
  const [tf, setTf] = useState("");
  const [source, setSource] = useState("");
  const q = new URLSearchParams();
  if (type) q.set("type", type);
  if (tf) q.set("timeframe", tf);
  if (source) q.set("source", source);
  const { data, error } = useData<{ count: number; max_size: number; min_score: number; rows: PoolRow[] }>(
    `/api/pool?${q}`, version);
  if (error) return <p className="error">{error}</p>;
  return (
    <Card title={`Pool leaderboard (${data?.count ?? "…"} shown; pool max ${data?.max_size ?? "…"}, min score ${data?.min_score ?? "…"})`}>
      <div className="filters">
        <Select label="type" value={type} options={TYPES} onChange={setType} />
        <Select label="timeframe" value={tf} options={TIMEFRAMES} onChange={setTf} />
        <Select label="source" value={source} options={SOURCES} onChange={setSource} />
      </div>
      <Table testid="pool-table" rowKey={(r) => r.id} rows={data?.rows ?? []} empty="the pool is empty" columns={[
        { key: "name", label: "strategy", render: (r) => <a href={`#/strategy/${r.id}`}>{r.name}</a> },
        { key: "status", label: "status", render: (r) => `${r.status}${r.trading_state !== "ACTIVE" ? ` (${r.trading_state})` : ""}` },
        { key: "type", label: "type" }, { key: "timeframe", label: "tf" }, { key: "source", label: "source" },
        { key: "score", label: "score", num: true, render: (r) => fmt(r.score, 1) },
        { key: "dsr", label: "DSR", num: true, render: (r) => fmt(r.dsr, 3) },
        { key: "pbo", label: "PBO", num: true, render: (r) => fmt(r.pbo, 3) },
        { key: "trials", label: "trials", num: true, render: (r) => fmt(r.trials) },
        { key: "oos_sharpe", label: "OOS Sharpe", num: true, render: (r) => fmt(r.oos_sharpe) },
        { key: "confirm_return", label: "confirm", num: true, render: (r) => pct(r.confirm_return, 2) },
        { key: "confirm_percentile", label: "twin pct", num: true, render: (r) => fmt(r.confirm_percentile, 0) },
        { key: "last_retest_at", label: "last re-test", render: (r) => when(r.last_retest_at) },
      ]} />
    </Card>
  );
}
