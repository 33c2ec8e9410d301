// The page shell every dashboard page shares: head, embedded stylesheet, navigation, status badges.
import { html, raw, type Interpolation, type SafeHtml } from './html.js';

const css = raw(`
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #fff; --panel: #f6f8fa; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header.top { background: #24292f; color: #fff; padding: 10px 0; }
header.top a { color: #fff; text-decoration: none; font-weight: 600; }
header.top nav { display: flex; gap: 18px; align-items: baseline; }
header.top .sub { color: #afb8c1; font-size: 12px; }
.wrap { max-width: 1200px; margin: 0 auto; padding: 0 16px; }
main.wrap { padding-top: 16px; padding-bottom: 40px; }
h1 { font-size: 20px; margin: 0 0 12px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h1 code { font-size: 17px; }
h2 { font-size: 16px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
a { color: var(--link); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 12.5px; margin: 6px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: #f3f6fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.record { max-width: 520px; }
td.time, td.created { white-space: nowrap; }
td.record code { white-space: pre-wrap; word-break: break-all; }
#jobs-table td.target code, #jobs-table td.source code { overflow-wrap: anywhere; }
#jobs-table td.source { max-width: 360px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; line-height: 18px; border: 1px solid transparent; white-space: nowrap; }
.badge.queued { background: #eaeef2; color: #424a53; border-color: #d0d7de; }
.badge.running { background: #ddf4ff; color: #0550ae; border-color: #54aeff; }
.badge.succeeded, .badge.loaded { background: #dafbe1; color: #116329; border-color: #4ac26b; }
.badge.failed { background: #ffebe9; color: #a40e26; border-color: #ff8182; }
.badge.cancelled, .badge.skipped { background: #fff8c5; color: #7d4e00; border-color: #d4a72c; }
.filters { display: flex; gap: 6px; flex-wrap: wrap; margin: 0 0 12px; }
.filters a { padding: 3px 10px; border: 1px solid var(--line); border-radius: 14px; text-decoration: none; color: var(--fg); font-size: 13px; }
.filters a.on { background: #24292f; color: #fff; border-color: #24292f; }
.pager { display: flex; gap: 16px; margin-top: 12px; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 8px 16px; margin: 0; }
dl.facts div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; min-width: 0; }
dl.facts dt { color: var(--muted); font-size: 12px; }
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.error-box { border: 1px solid #ff8182; background: #ffebe9; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
.error-box code { font-weight: 600; }
.progress { height: 8px; background: #eaeef2; border-radius: 4px; overflow: hidden; margin: 10px 0 0; }
.progress span { display: block; height: 100%; background: #54aeff; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #424a53; }
svg.chart .grid { stroke: #eaeef2; }
svg.chart .axis { stroke: #8c959f; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin: 8px 0; font-size: 12.5px; list-style: none; padding: 0; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
i.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
i.swatch.thin { height: 5px; vertical-align: 2px; }
#stage-table td.indent { padding-left: 26px; }
#stage-table tr.part td { color: var(--muted); }
#stage-table { width: auto; min-width: 50%; margin-top: 8px; }
.share { display: inline-block; height: 9px; background: #54aeff; border-radius: 2px; vertical-align: middle; }
`);

export function page(opts: { title: string; body: Interpolation; refreshSeconds?: number }): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<title>${opts.title} · citus-ingest</title>
<style>${css}</style>
</head>
<body>
<header class="top"><div class="wrap"><nav><a href="/ui">citus-ingest</a><a href="/ui" class="sub">jobs</a><a href="/ui/watches" class="sub">watches</a><a href="/docs" class="sub">API docs</a></nav></div></header>
<main class="wrap">
${opts.body}
</main>
</body>
</html>
`;
}

export function badge(status: string): SafeHtml {
  return html`<span class="badge ${status}" data-status="${status}">${status}</span>`;
}

/** A page that says what went wrong (404, 400, 500), in the dashboard's own look. */
export function errorPage(status: number, title: string, message: string): SafeHtml {
  return page({
    title,
    body: html`<h1 id="error-title">${status} · ${title}</h1><p id="error-message">${message}</p><p><a href="/ui">Back to the job list</a></p>`,
  });
}
