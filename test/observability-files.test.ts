// The alert rules and the Grafana dashboard under deploy/: the rules pass promtool's checks and their own
// unit tests, and every metric and label the rules' and the dashboard's queries use is one the service's
// /metrics exports.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createHarness, postJob, slowTable, SIXTEEN_TEXT_COLUMNS, waitForJob } from './helpers/harness.js';
import { missing } from './helpers/requirement.js';
import { pricePaidCsv } from '../src/gen/pricePaid.js';

const run = promisify(execFile);
const RULES = 'deploy/prometheus/citus-ingest.rules.yml';
const RULE_TESTS = 'deploy/prometheus/rules.test.yml';
const DASHBOARD = 'deploy/grafana/citus-ingest.json';
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const promtoolMissing = existsSync(PROMTOOL) ? false : missing(`promtool is not at ${PROMTOOL} (Debian's prometheus package)`);

t.test('promtool checks the rules and runs their unit tests', { skip: promtoolMissing }, async (t) => {
  const check = await run(PROMTOOL, ['check', 'rules', RULES]);
  t.match(check.stdout, /SUCCESS: \d+ rules found/);
  const tests = await run(PROMTOOL, ['test', 'rules', RULE_TESTS]);
  t.match(tests.stdout, /SUCCESS/);
});

/** The PromQL of every dashboard panel and every rule. */
async function queries(): Promise<Array<{ where: string; expr: string }>> {
  const out: Array<{ where: string; expr: string }> = [];
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  for (const panel of dashboard.panels) for (const target of panel.targets ?? []) out.push({ where: `dashboard panel "${panel.title}"`, expr: target.expr });
  for (const variable of dashboard.templating.list) if (variable.definition) out.push({ where: `dashboard variable ${variable.name}`, expr: variable.definition });
  const rules = parse(await readFile(RULES, 'utf8'));
  for (const group of rules.groups) for (const rule of group.rules) out.push({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr });
  return out;
}

/** Metric names (without a histogram's suffix) and label names a PromQL expression uses. */
function uses(expr: string): { selectors: Array<{ metric: string; labels: string[] }>; grouping: string[] } {
  const selectors = [...expr.matchAll(/\b(citus_ingest_[a-z0-9_]+)\s*(\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1]!,
    labels: [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!),
  }));
  const grouping = [...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((s) => s.trim()).filter(Boolean),
  );
  // label_values(metric, label)
  for (const m of expr.matchAll(/label_values\((citus_ingest_[a-z0-9_]+),\s*([a-z_]+)\)/g)) selectors.push({ metric: m[1]!, labels: [m[2]!] });
  return { selectors, grouping };
}

/** Metric names and their label names in a Prometheus text exposition. */
function exported(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

t.test('every metric and label the dashboard and the rules query is exported by /metrics', async (t) => {
  const h = await createHarness();
  t.teardown(() => h.close());
  const svc = await h.start('all');
  // A finished run (target counters, stage histograms) and one still running (the running-job gauges).
  await h.db.query(`CREATE TABLE ${h.schema}.done (${SIXTEEN_TEXT_COLUMNS})`);
  const done = await postJob(svc.url!, { source: { url: await h.put('done.csv', pricePaidCsv(100, 35)) }, target: { table: `${h.schema}.done` } });
  t.equal((await waitForJob(svc.url!, done.body.id, ['succeeded', 'failed'])).status, 'succeeded');
  await slowTable(h, 'slow', 20);
  const slow = await postJob(svc.url!, { source: { url: await h.put('slow.csv', pricePaidCsv(1_000, 36)) }, target: { table: `${h.schema}.slow` } });
  await waitForJob(svc.url!, slow.body.id, ['running']);
  await fetch(`${svc.url}/readyz`);
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  await fetch(`${svc.url}/jobs/${slow.body.id}/cancel`, { method: 'POST' });

  const metrics = exported(text);
  const labelsOf = (metric: string): Set<string> | undefined => metrics.get(metric);
  // Labels Prometheus adds to every series it scrapes, and a histogram's bucket bound.
  const added = new Set(['instance', 'job', 'le']);
  t.match(text, new RegExp(`^citus_ingest_target_rows_loaded_total\\{target="[^\\n]*${h.schema}[^\\n]*done[^\\n]*"\\} 100$`, 'm'), 'the finished run counted 100 rows against its target');
  let checked = 0;
  for (const { where, expr } of await queries()) {
    const { selectors, grouping } = uses(expr);
    const labelsHere = new Set<string>(added);
    for (const { metric, labels } of selectors) {
      const have = labelsOf(metric);
      t.ok(have, `${where}: ${metric} is exported`);
      for (const label of labels) t.ok(have?.has(label) || added.has(label), `${where}: ${metric} has label ${label}`);
      for (const label of have ?? []) labelsHere.add(label);
      checked += 1;
    }
    for (const label of grouping) t.ok(labelsHere.has(label), `${where}: grouping label ${label} is on one of its metrics`);
  }
  t.ok(checked >= 20, `${checked} metric selectors checked`);
});
