// The soak (scripts/soak): the service as deployed (an API process and two worker processes, a Redis of
// its own) against the local Citus cluster, a mixed stream of jobs, seeded random faults, and an audit of
// every target at the end. CI runs SOAK_MINUTES (default 3) with the seed taken from the commit, printed so a run can be
// repeated (npm run soak -- --minutes 3 --seed S).
import { execFileSync, spawn } from 'node:child_process';
import t from 'tap';
import { citusCluster } from './helpers/citus.js';

const minutes = process.env.SOAK_MINUTES ?? '3';
// Every fault kind of the local cluster (each seen through by hand runs, docs/reliability.md); the HA
// kinds need --ha and the HA stack. The Citus faults restart nodes of the cluster CI runs on, which it can
// afford: it runs one test file at a time.
const faults = process.env.SOAK_FAULTS ?? 'kill-worker,kill-api,redis-restart,terminate-sessions,citus-worker-restart,s3-restart';

const skip = citusCluster().skip ?? false;
// The file runs longer than tap's default per-file timeout: the soak, its start and its wait.
if (!skip) t.setTimeout((Number(minutes) + 12) * 60_000);

t.test(`a ${minutes}-minute soak under random faults loses nothing, doubles nothing, leaves nothing stuck`, { skip, timeout: (Number(minutes) + 10) * 60_000 }, async (t) => {
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const seed = String(parseInt(head.slice(0, 7), 16));
  t.comment(`soak seed ${seed} (commit ${head.slice(0, 12)})`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak/run.ts', '--minutes', minutes, '--seed', seed, '--faults', faults], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const last = out.trim().split('\n').at(-1) ?? '';
  t.comment(last);
  for (const line of err.split('\n').filter((l) => /PROBLEM|fault:/.test(l))) t.comment(line);
  t.equal(code, 0, 'the soak exits 0');
  t.match(last, /lost 0, doubled 0, stuck 0, ledger mismatches 0/);
  const jobs = Number(/, (\d+) jobs/.exec(last)?.[1] ?? 0);
  t.ok(jobs >= 10, `${jobs} jobs ran`);
  const injected = Number(/, (\d+) faults/.exec(last)?.[1] ?? 0);
  t.ok(injected >= 3, `${injected} faults were injected`);
});
