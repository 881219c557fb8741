import { fmt, pct, when } from "../api";
import { Card, Table, useData } from "../components";

interface Series { symbol: string; timeframe: string; first: string; last: string; rows: number; expected: number;
  missing: number; coverage: number; age_s: number; full_history: boolean }
interface Coin { symbol: string; is_active: boolean; volume_24h_usd: number | null; max_leverage: number | null;
  timeframes: string[]; updated_at: string | null }

const age = (s: number): string => (s < 0 ? "open" : s < 3600 ? `${Math.round(s / 60)} min` :
  s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`);

export function DataPage({ version }: { version: number }) {
  const { data, error } = useData<{ coins: Coin[]; series: Series[]; timeframes: string[] }>("/api/data", version);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>loading…</p>;
  return (
    <div className="grid">
      <Card title={`Coverage per timeframe (${data.series.length} series)`}>
        <Table testid="coverage" rowKey={(s) => `${s.symbol}_${s.timeframe}`} rows={data.series} empty="the candle store is empty" columns={[
          { key: "symbol", label: "coin" }, { key: "timeframe", label: "tf" },
          { key: "first", label: "first", render: (s) => when(s.first) }, { key: "last", label: "last", render: (s) => when(s.last) },
          { key: "rows", label: "bars", num: true }, { key: "missing", label: "gaps (bars)", num: true },
          { key: "coverage", label: "coverage", num: true, render: (s) => pct(s.coverage, 2) },
          { key: "age_s", label: "freshness", num: true, render: (s) => age(s.age_s) }]} />
      </Card>
      <Card title={`Coins (${data.coins.length})`}>
        <Table testid="coins" rowKey={(c) => c.symbol} rows={data.coins} columns={[
          { key: "symbol", label: "coin" }, { key: "timeframes", label: "timeframes", render: (c) => c.timeframes.join(", ") },
          { key: "volume_24h_usd", label: "24h volume USD", num: true, render: (c) => fmt(c.volume_24h_usd, 0) },
          { key: "max_leverage", label: "max lev", num: true, render: (c) => fmt(c.max_leverage, 0) },
          { key: "updated_at", label: "updated", render: (c) => when(c.updated_at) }]} />
      </Card>
    </div>
  );
}
