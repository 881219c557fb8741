import { useMemo } from "react";
import { fmt, pct, type Snapshot } from "../api";
import { BarsChart, Card, Table, useData } from "../components";

interface Pipeline {
  counts: Record<string, number>;
  funnel: { stage: string; reached: number; conversion: number | null }[];
  queues: { queue: string; size: number; limit: number; back_pressure: boolean }[];
  failures: { reason: string; count: number }[];
  stage_times: { status: string; n: number; median_s: number; mean_s: number }[];
  trend: { bucket_s: number; start: string | null; series: Record<string, number[]> };
  pool: { count: number; min_score: number | null; max_score: number | null };
  trials: number;
}

const COLORS: Record<string, string> = { GENERATED: "#90a4ae", VALIDATED: "#42a5f5", ACTIVE: "#66bb6a",
  LIVE: "#ffa726", RETIRED: "#8d6e63", REJECTED: "#ef5350", FAILED: "#ab47bc" };

export function PipelinePage({ version, snap }: { version: number; snap: Snapshot | null }) {
  const { data, error } = useData<Pipeline>("/api/pipeline", version);
  const trend = useMemo(() => {
    if (!data?.trend.start) return [];
    const t0 = Date.parse(data.trend.start) / 1000;
    return Object.entries(data.trend.series).map(([name, counts]) => ({
      name, color: COLORS[name] ?? "#999",
      points: counts.map((v, i) => ({ time: t0 + i * data.trend.bucket_s, value: v })),
    }));
  }, [data]);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>loading…</p>;
  const counts = snap?.counts ?? data.counts;
  return (
    <div className="grid">
      <Card title="Strategies now" testid="counts">
        <div className="tiles">
          {Object.entries(counts).map(([s, n]) => (
            <div key={s} className="tile" data-testid={`count-${s}`}><b>{n}</b><span>{s}</span></div>))}
          <div className="tile"><b>{fmt(data.trials)}</b><span>trials</span></div>
        </div>
      </Card>
      <Card title="Funnel" testid="funnel">
        <div className="funnel">
          {data.funnel.map((f) => (
            <div key={f.stage} className="stage" data-testid={`funnel-${f.stage}`}>
              <div className="bar" style={{ width: `${Math.max(4, (100 * f.reached) / Math.max(1, data.funnel[0].reached))}%` }} />
              <span>{f.stage}</span><b>{f.reached}</b>
              <em>{f.conversion === null ? "" : `→ ${pct(f.conversion)}`}</em>
            </div>))}
        </div>
      </Card>
      <Card title="Queues and back-pressure">
        <Table testid="queues" rowKey={(r) => r.queue} rows={data.queues} columns={[
          { key: "queue", label: "queue" }, { key: "size", label: "size", num: true },
          { key: "limit", label: "limit", num: true },
          { key: "back_pressure", label: "back-pressure", render: (r) => (r.back_pressure ? "PAUSED" : "ok") }]} />
      </Card>
      <Card title="Failures by reason">
        <Table testid="failures" rowKey={(r) => r.reason} rows={data.failures} empty="no rejection yet" columns={[
          { key: "reason", label: "reason" }, { key: "count", label: "count", num: true }]} />
      </Card>
      <Card title="Time per stage">
        <Table testid="stage-times" rowKey={(r) => r.status} rows={data.stage_times} columns={[
          { key: "status", label: "in status" }, { key: "n", label: "left", num: true },
          { key: "median_s", label: "median s", num: true, render: (r) => fmt(r.median_s, 1) },
          { key: "mean_s", label: "mean s", num: true, render: (r) => fmt(r.mean_s, 1) }]} />
      </Card>
      <Card title={`Trend (status changes per ${data.trend.bucket_s} s)`}>
        <div className="legend">{trend.map((s) => <span key={s.name} style={{ color: s.color }}>■ {s.name}</span>)}</div>
        <BarsChart series={trend} testid="trend-chart" />
      </Card>
    </div>
  );
}
