import { useState } from "react";
import { fmt, getToken, pct, postAction, when } from "../api";
import { Card, Table, useData } from "../components";

interface Position { id: number; strategy: string | null; strategy_id: number; subaccount: string; symbol: string;
  timeframe: string; direction: string; qty: number; entry_price: number; stop_price: number; target_price: number;
  mark_price: number | null; unrealised_pnl_usd: number | null; entry_ts: string }
interface Sub { label: string; mode: string; strategy: string | null; strategy_id: number | null; capital_usd: number;
  balance_usd: number; realised_pnl_usd: number; unrealised_pnl_usd: number; open_positions: number; trades: number }
interface Order { id: number; client_order_id: string; strategy_id: number; symbol: string; side: string;
  order_type: string; qty: number; status: string; filled_price: number | null; created_at: string; leg: string | null }
interface Live {
  mode: string; positions: Position[]; subaccounts: Sub[]; orders: Order[];
  kill_switch: { state: string; halted: boolean; since: string | null; reason: string; detail: string;
    paused: { id: number; name: string | null; state: string; reason: string }[];
    strategy_session_loss: number; global_drawdown_24h: number; grace_minutes: number };
  totals: Record<string, number>;
}

interface StopReport { newly_halted: boolean; complete: boolean; cancelled: string[][]; closed: string[][];
  failures: string[][] }

function EmergencyStop({ halted, onDone }: { halted: boolean; onDone: (m: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [close, setClose] = useState(false);
  const stop = () => postAction<StopReport>("/api/emergency-stop", { close })
    .then((r) => onDone(`trading HALTED${r.newly_halted ? "" : " (already)"}: ${r.cancelled.length} orders cancelled`
      + (close ? `, ${r.closed.length} positions closed` : "")
      + (r.complete ? "" : ` · NOT complete: ${r.failures.map((f) => `${f[0]}: ${f[2]}`).join("; ") || "orders left open"}`)))
    .catch((e: Error) => onDone(`emergency stop refused: ${e.message}`)).finally(() => setConfirming(false));
  const clear = () => postAction("/api/emergency-stop/clear").then(() => onDone("trading ACTIVE again"))
    .catch((e: Error) => onDone(e.message));
  if (!getToken()) return <p className="error">Open the login link printed by `make run` to enable actions.</p>;
  if (confirming) {
    return (
      <div className="confirm" data-testid="confirm-box">
        <p><b>Stop all trading?</b> Trading becomes HALTED: the executor sends no order at all, and every open
          order of every sub-account (stops included) is cancelled on the venue. Same as
          {" "}<code>sixbtc emergency-stop</code>; it holds until resumed.</p>
        <label><input type="checkbox" checked={close} onChange={(e) => setClose(e.target.checked)} data-testid="confirm-close" />
          {" "}also close every position (reduce-only market orders)</label>
        <div className="actions">
          <button className="danger" onClick={stop} data-testid="confirm-stop">Yes, stop trading</button>
          <button onClick={() => setConfirming(false)} data-testid="cancel-stop">Cancel</button>
        </div>
      </div>
    );
  }
  return (
    <div className="actions">
      <button className="danger big" onClick={() => setConfirming(true)} data-testid="emergency-stop">EMERGENCY STOP</button>
      {halted && <button onClick={clear} data-testid="clear-halt">Resume trading</button>}
    </div>
  );
}

export function LivePage({ version }: { version: number }) {
  const { data, error } = useData<Live>("/api/live", version);
  const [msg, setMsg] = useState("");
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p>loading…</p>;
  const ks = data.kill_switch;
  return (
    <div className="grid">
      <Card title={`Kill switch (${data.mode})`} testid="kill-switch">
        <p data-testid="halt-state" className={ks.halted ? "halted" : "ok"}>
          {ks.state === "ACTIVE" ? "trading ACTIVE" : `TRADING ${ks.state} since ${when(ks.since)} (${ks.reason}: ${ks.detail})`}</p>
        <p data-testid="strategy-states">strategies stopped: {ks.paused.map((p) => `${p.name ?? p.id} ${p.state} (${p.reason})`).join(", ") || "none"} ·
          session loss stop {pct(ks.strategy_session_loss, 0)} ·
          24 h drawdown stop {pct(ks.global_drawdown_24h, 0)} · grace {ks.grace_minutes} min</p>
        <EmergencyStop halted={ks.halted} onDone={setMsg} />
        {msg && <p className="msg" data-testid="action-msg">{msg}</p>}
      </Card>
      <Card title="PnL per sub-account">
        <p data-testid="totals">capital {fmt(data.totals.capital_usd)} USD · balance {fmt(data.totals.balance_usd, 4)} USD ·
          realised {fmt(data.totals.realised_pnl_usd, 4)} · unrealised {fmt(data.totals.unrealised_pnl_usd, 4)}</p>
        <Table testid="subaccounts" rowKey={(s) => s.label} rows={data.subaccounts} columns={[
          { key: "label", label: "sub-account" }, { key: "mode", label: "mode" },
          { key: "strategy", label: "strategy", render: (s) => s.strategy_id ? <a href={`#/strategy/${s.strategy_id}`}>{s.strategy}</a> : "free" },
          { key: "capital_usd", label: "capital", num: true, render: (s) => fmt(s.capital_usd) },
          { key: "balance_usd", label: "balance", num: true, render: (s) => fmt(s.balance_usd, 4) },
          { key: "realised_pnl_usd", label: "realised", num: true, render: (s) => fmt(s.realised_pnl_usd, 4) },
          { key: "unrealised_pnl_usd", label: "unrealised", num: true, render: (s) => fmt(s.unrealised_pnl_usd, 4) },
          { key: "open_positions", label: "open", num: true }, { key: "trades", label: "trades", num: true }]} />
      </Card>
      <Card title="Open positions">
        <Table testid="positions" rowKey={(p) => p.id} rows={data.positions} empty="no open position" columns={[
          { key: "strategy", label: "strategy", render: (p) => <a href={`#/strategy/${p.strategy_id}`}>{p.strategy}</a> },
          { key: "subaccount", label: "sub-account" }, { key: "symbol", label: "coin" }, { key: "direction", label: "side" },
          { key: "qty", label: "qty", num: true, render: (p) => fmt(p.qty, 6) },
          { key: "entry_price", label: "entry", num: true, render: (p) => fmt(p.entry_price, 4) },
          { key: "stop_price", label: "stop", num: true, render: (p) => fmt(p.stop_price, 4) },
          { key: "target_price", label: "target", num: true, render: (p) => fmt(p.target_price, 4) },
          { key: "mark_price", label: "mark", num: true, render: (p) => fmt(p.mark_price, 4) },
          { key: "unrealised_pnl_usd", label: "uPnL USD", num: true, render: (p) => fmt(p.unrealised_pnl_usd, 4) }]} />
      </Card>
      <Card title="Orders (newest first)">
        <Table testid="orders" rowKey={(o) => o.id} rows={data.orders} columns={[
          { key: "created_at", label: "time", render: (o) => when(o.created_at) }, { key: "strategy_id", label: "strategy", num: true },
          { key: "symbol", label: "coin" }, { key: "side", label: "side" }, { key: "order_type", label: "type" }, { key: "leg", label: "leg" },
          { key: "qty", label: "qty", num: true, render: (o) => fmt(o.qty, 6) }, { key: "status", label: "status" },
          { key: "filled_price", label: "fill px", num: true, render: (o) => fmt(o.filled_price, 4) }]} />
      </Card>
    </div>
  );
}
