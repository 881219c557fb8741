import { useEffect, useState } from "react";
import { getToken, openFeed, setToken, when, type EventRow, type Snapshot } from "./api";
import { DataPage } from "./pages/Data";
import { LivePage } from "./pages/Live";
import { PipelinePage } from "./pages/Pipeline";
import { PoolPage } from "./pages/Pool";
import { StrategyPage } from "./pages/Strategy";

const PAGES = [["pipeline", "Pipeline"], ["pool", "Pool"], ["live", "Live / paper"], ["data", "Data"]] as const;

function useRoute(): string[] {
  const read = () => (window.location.hash.replace(/^#\/?/, "") || "pipeline").split("/");
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function TokenBox({ onSet }: { onSet: () => void }) {
  const [value, setValue] = useState("");
  return (
    <form className="token" onSubmit={(e) => { e.preventDefault(); setToken(value.trim()); onSet(); }}>
      <input type="password" placeholder="API token" value={value} onChange={(e) => setValue(e.target.value)} data-testid="token-input" />
      <button type="submit">Use token</button>
    </form>
  );
}

export function App() {
  const route = useRoute();
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [events, setEvents] = useState<EventRow[]>([]);
  const [version, setVersion] = useState(0);
  const [feed, setFeed] = useState("connecting");
  const [tokenVersion, setTokenVersion] = useState(0);
  useEffect(() => openFeed((m) => {
    if (m.type === "snapshot") setSnap(m.data);
    else setEvents((old) => [...m.events.slice().reverse(), ...old].slice(0, 30));
    setVersion((v) => v + 1);
  }, setFeed), [tokenVersion]);
  const [page, arg] = route;
  return (
    <>
      <header>
        <h1>SixBTC</h1>
        <nav>{PAGES.map(([key, label]) => (
          <a key={key} href={`#/${key}`} className={page === key ? "on" : ""} data-testid={`nav-${key}`}>{label}</a>))}
        </nav>
        <span className={`feed ${feed}`} data-testid="feed-state">{feed}</span>
        {snap && snap.trading_state !== "ACTIVE" && <span className="halted" data-testid="halt-banner">TRADING {snap.trading_state}</span>}
        {!getToken() && <TokenBox onSet={() => setTokenVersion((v) => v + 1)} />}
      </header>
      <main data-testid={`page-${page}`}>
        {page === "pipeline" && <PipelinePage version={version} snap={snap} />}
        {page === "pool" && <PoolPage version={version} />}
        {page === "strategy" && <StrategyPage id={arg ?? ""} version={version} />}
        {page === "live" && <LivePage version={version} />}
        {page === "data" && <DataPage version={version} />}
      </main>
      <aside data-testid="feed-events">
        <h2>New events</h2>
        {events.length === 0 && <p className="empty">none since this page opened</p>}
        <ul>{events.map((e) => (
          <li key={e.id} data-testid="feed-event"><time>{when(e.ts).slice(11)}</time> {e.strategy_name}: {e.reason}
            {e.to_status && e.from_status !== e.to_status ? ` → ${e.to_status}` : ""}</li>))}
        </ul>
      </aside>
    </>
  );
}
