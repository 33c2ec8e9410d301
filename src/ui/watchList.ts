// GET /ui/watches: every watch with what its events did and the jobs it started.
import type { WatchRow } from '../sql/watches.js';
import { fmtInt, fmtTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';

export function watchListPage(watches: WatchRow[]): SafeHtml {
  const rows = watches.map(
    (w) => html`<tr data-watch="${w.name}">
<td class="name"><code>${w.name}</code></td>
<td class="prefix"><code>${w.prefixUrl}</code></td>
<td class="on">${w.trigger === 'marker' ? html`marker <code>${w.marker}</code>` : 'each object'}${w.pollSeconds ? html` <span class="muted">· lists every ${w.pollSeconds} s</span>` : ''}</td>
<td class="num received">${fmtInt(w.eventsReceived)}</td>
<td class="num matched">${fmtInt(w.eventsMatched)}</td>
<td class="num ignored">${fmtInt(w.eventsIgnored)}</td>
<td class="num started">${fmtInt(w.jobsStarted)}</td>
<td class="time last-event" title="${w.lastEventAt ?? ''}">${w.lastEventAt ? fmtTime(w.lastEventAt) : '–'}</td>
</tr>`,
  );
  const table = watches.length
    ? html`<div class="scroll"><table id="watches-table">
<thead><tr><th>watch</th><th>prefix</th><th>loads on</th><th class="num">events</th><th class="num">matched</th><th class="num">ignored</th><th class="num">jobs started</th><th>last event</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
    : html`<p id="no-watches" class="muted">No watches. POST /watches creates one (docs/watches.md).</p>`;
  return page({
    title: 'watches',
    body: html`<h1>Watches</h1>
${table}
<p class="note">A watch's jobs are listed by GET /watches/:name. Times are UTC.</p>`,
  });
}
