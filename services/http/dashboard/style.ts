/** The dashboard's stylesheet, inlined into the page so it needs one request less and no asset route. */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light;
  --bg: #f4f5f7; --card: #fff; --text: #1f2328; --muted: #59636e; --line: #d1d9e0; --track: #e6e9ed;
  --online: #1a7f37; --online-bg: #dafbe1; --suspect: #9a6700; --suspect-bg: #fff8c5;
  --offline: #cf222e; --offline-bg: #ffebe9; --unknown: #59636e; --unknown-bg: #eaeef2;
  --ok: #2f81f7; --high: #d4a72c; --critical: #cf222e;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); }
h1, h2 { margin: 0; }
.summary {
  position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: .5rem 2rem; align-items: center;
  padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line);
}
.title { display: flex; gap: .75rem; align-items: baseline; }
.title h1 { font-size: 1.3rem; }
.connection { font-weight: 600; padding: .1rem .55rem; border-radius: 1rem; background: var(--unknown-bg); }
.connection[data-state="live"] { color: var(--online); background: var(--online-bg); }
.connection[data-state="reconnecting"] { color: var(--suspect); background: var(--suspect-bg); }
.epoch { color: var(--muted); font-size: .8rem; font-family: ui-monospace, monospace; }
.counts { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: 0; }
.count { display: flex; flex-direction: column-reverse; }
.count dt { color: var(--muted); font-size: .75rem; }
.count dd { margin: 0; font-size: 1.25rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.layout { display: grid; gap: 1rem; padding: 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 1100px) { .layout { grid-template-columns: minmax(0, 1fr) 22rem; } }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin-bottom: .75rem; }
.filters input[type="search"] { flex: 1 1 16rem; max-width: 28rem; padding: .35rem .5rem; font: inherit; }
body[data-connection="reconnecting"] .hives { opacity: .6; }
.hive-grid { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); }
.hive {
  content-visibility: auto; contain-intrinsic-size: auto 24rem;
  display: flex; flex-direction: column; gap: .4rem; padding: .6rem .75rem; background: var(--card);
  border: 1px solid var(--line); border-left: 6px solid var(--unknown); border-radius: 6px;
}
.hive[data-liveness="online"] { border-left-color: var(--online); }
.hive[data-liveness="suspect"] { border-left-color: var(--suspect); background: #fffdf0; }
.hive[data-liveness="offline"] { border-left-color: var(--offline); background: #fff8f7; }
.hive-head { display: flex; gap: .5rem; align-items: center; }
.hive-id { font-size: 1rem; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.age { color: var(--muted); font-size: .8rem; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge {
  display: inline-flex; gap: .25rem; align-items: center; padding: 0 .45rem; border-radius: 1rem;
  font-size: .75rem; font-weight: 600; color: var(--unknown); background: var(--unknown-bg); white-space: nowrap;
}
.badge[data-liveness="online"] { color: var(--online); background: var(--online-bg); }
.badge[data-liveness="suspect"] { color: var(--suspect); background: var(--suspect-bg); }
.badge[data-liveness="offline"] { color: var(--offline); background: var(--offline-bg); }
.tags { display: flex; flex-wrap: wrap; gap: .3rem; }
.tag { font-size: .72rem; padding: 0 .4rem; border: 1px solid var(--line); border-radius: 4px; color: var(--muted); }
.tag.warn { color: var(--suspect); border-color: var(--high); background: var(--suspect-bg); }
.metrics, .devices { display: flex; flex-direction: column; gap: .2rem; }
.device { display: flex; flex-direction: column; gap: .1rem; padding-top: .2rem; }
.device-name { font-size: .75rem; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.meter { display: grid; grid-template-columns: 2.7rem 1fr 7rem; gap: .5rem; align-items: center; font-size: .8rem; }
.meter-label { color: var(--muted); }
.meter-graph { display: flex; flex-direction: column; gap: 1px; min-width: 0; }
.spark { height: 18px; overflow: hidden; }
.spark .uplot, .spark .u-wrap, .spark canvas { width: 100% !important; height: 18px !important; }
.hive[data-stale="true"] .metrics { filter: grayscale(1); opacity: .55; }
.readings-age { margin: 0; font-size: .75rem; font-style: italic; color: var(--muted); }
.meter-bar { height: .55rem; background: var(--track); border-radius: 3px; overflow: hidden; }
.meter-fill { display: block; height: 100%; width: 0; background: var(--ok); }
.meter[data-level="high"] .meter-fill { background: var(--high); }
.meter[data-level="critical"] .meter-fill { background: var(--critical); }
.meter-text { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.line { margin: 0; font-size: .8rem; overflow-wrap: anywhere; }
.line-label { color: var(--muted); margin-right: .4rem; }
.empty { margin: 0; color: var(--muted); font-size: .8rem; font-style: italic; }
.workers-heading { margin: .2rem 0 0; font-size: .78rem; font-weight: 600; color: var(--muted); }
.workers { list-style: none; margin: 0; padding: 0; font-size: .78rem; }
.worker { padding: .2rem 0; border-top: 1px solid var(--line); }
.worker-line { display: flex; gap: .4rem; align-items: center; min-width: 0; }
.worker-id { flex: 1 1 auto; min-width: 0; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.worker-status, .worker-served, .worker-detail { color: var(--muted); white-space: nowrap; }
.worker-status[data-status="error"] { color: var(--offline); font-weight: 600; }
.worker-served [data-testid="worker-requests"] { color: var(--text); font-variant-numeric: tabular-nums; }
.worker-model { min-width: 0; color: var(--text); overflow: hidden; text-overflow: ellipsis; }
.worker-detail [data-testid="worker-device"] { color: var(--text); }
.worker-engine { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.worker-error { color: var(--offline); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.side {
  align-self: start; position: sticky; top: 5rem; max-height: calc(100vh - 6rem); overflow: auto;
  display: grid; gap: 1rem;
}
.log-panel { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; }
.log-panel select { width: 100%; margin-bottom: .4rem; }
.log-panel button { margin-top: .4rem; }
.log-panel h2 { font-size: 1rem; margin-bottom: .4rem; }
.log { list-style: none; margin: 0; padding: 0; font-size: .8rem; }
.log li { padding: .2rem 0; border-top: 1px solid var(--line); }
.log time { color: var(--muted); font-variant-numeric: tabular-nums; }
.log-subject { font-weight: 600; }
.log li[data-to="online"] .log-change { color: var(--online); }
.log li[data-to="suspect"] .log-change { color: var(--suspect); }
.log li[data-to="offline"] .log-change, .log li[data-to="forgotten"] .log-change { color: var(--offline); }
.log-reason { color: var(--muted); }
`;
