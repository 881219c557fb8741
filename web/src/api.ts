// Talking to the SixBTC API: reads (GET), actions (POST with the bearer token) and the
// WebSocket feed (token offered as the subprotocol "token.<TOKEN>", never in the URL).

const TOKEN_KEY = "sixbtc.token";

/** Take a token from the "#token=..." login link into sessionStorage and clear it from the URL. */
export function captureToken(): void {
  const m = window.location.hash.match(/^#token=([^&]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", window.location.pathname + "#/pipeline");
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

export async function postAction<T>(path: string, body: object = {}): Promise<T> {
  const token = getToken();
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token ?? ""}` },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${data.detail ?? "refused"}`);
  return data as T;
}

export interface Snapshot {
  counts: Record<string, number>;
  pool: number;
  trading_state: string;
  halted: boolean;
  paused: number[];
  positions: { id: number; strategy_id: number; symbol: string; direction: string; qty: number;
    entry_price: number; stop_price: number; subaccount: string }[];
  subaccounts: Record<string, { balance_usd: number; realised_pnl_usd: number }>;
  trades: Record<string, number>;
  last_event_id: number;
}

export interface EventRow {
  id: number; strategy_id: number | null; strategy_name: string; from_status: string | null;
  to_status: string | null; phase: string; reason: string; detail: string; ts: string;
}

export type FeedMessage =
  | { type: "snapshot"; data: Snapshot }
  | { type: "events"; events: EventRow[] };

/** Open the feed; reconnects every 3 s after a drop. Returns a function that closes it. */
export function openFeed(onMessage: (m: FeedMessage) => void, onState: (s: string) => void): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let timer: number | undefined;
  const connect = () => {
    const token = getToken();
    if (!token) { onState("no token"); return; }
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`;
    ws = new WebSocket(url, ["sixbtc", `token.${token}`]);
    ws.onopen = () => onState("live");
    ws.onmessage = (ev) => onMessage(JSON.parse(ev.data) as FeedMessage);
    ws.onclose = () => {
      onState("disconnected");
      if (!stopped) timer = window.setTimeout(connect, 3000);
    };
  };
  connect();
  return () => { stopped = true; window.clearTimeout(timer); ws?.close(); };
}

export const fmt = (v: unknown, digits = 2): string => {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return String(v);
};

export const pct = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(digits)} %`;

export const when = (iso: string | null | undefined): string =>
  iso ? iso.replace("T", " ").slice(0, 19) : "–";
