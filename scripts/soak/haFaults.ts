// --ha: the soak against the HA stack of scripts/ha-local.sh (Citus under Patroni, etcd, HAProxy,
// PgBouncer), the service reaching it through PgBouncer in transaction mode, and the stack's own faults:
// a switchover and a failover of the coordinator group, a worker group's PostgreSQL restarted by
// Patroni, PgBouncer and HAProxy restarted. Each HA fault returns once the stack is whole again (a
// leader with its synchronous standby, both workers primary, writes through PgBouncer), so the next
// one starts from a whole stack. The worker groups have one node each, so they have no switchover or
// failover to make (a replica per worker group would be needed).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { coordinatorRoles, HA_ROOT, haNodes, haStack, stackHealthy, until, type HaStack } from '../../test/helpers/ha.js';
import type { FaultContext } from './faults.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = async (cmd: string, args: string[]): Promise<void> => void (await run(cmd, args, { timeout: 240_000 }));
const haLocal = (...args: string[]) => sh('bash', ['scripts/ha-local.sh', ...args]);
const patronictl = (...args: string[]) => sh('patronictl', ['-c', `${HA_ROOT}/coord1.yml`, ...args]);

/** The stack's URLs (started by ha-local.sh up if it is not running) and every PostgreSQL node's URL. */
export function haCluster(): { stack: HaStack; nodes: string[] } {
  const found = haStack();
  if (!found.stack) throw new Error(`soak --ha: ${found.skip}`);
  const stack = found.stack;
  return { stack, nodes: Object.values(haNodes).map((n) => stack.haproxyUrl.replace(/:\d+\//, `:${n.pg}/`)) };
}

export const haFaults: Record<string, (c: FaultContext) => Promise<void>> = {
  'ha-switchover-coordinator': async ({ ha }) => {
    const { leader, syncStandby } = await coordinatorRoles();
    if (leader && syncStandby) await patronictl('switchover', '--group', '0', '--leader', leader, '--candidate', syncStandby, '--force');
    await stackHealthy(ha!);
  },
  'ha-failover-coordinator': async ({ ha }) => {
    const { leader } = await coordinatorRoles();
    if (!leader) return stackHealthy(ha!);
    // The primary's Patroni and postmaster SIGKILLed together: the replica is promoted after Patroni's ttl.
    const patroni = (await readFile(`${HA_ROOT}/run/${leader}.pid`, 'utf8')).trim();
    const postmaster = (await readFile(`${HA_ROOT}/${leader}/postmaster.pid`, 'utf8')).split('\n')[0]!.trim();
    process.kill(Number(patroni), 'SIGKILL');
    process.kill(Number(postmaster), 'SIGKILL');
    await until('a new coordinator leader', async () => {
      const now = (await coordinatorRoles()).leader;
      return now !== undefined && now !== leader;
    });
    // The old primary rejoins as the replica (pg_rewind) once its Patroni runs again.
    await haLocal('start', leader);
    await stackHealthy(ha!);
  },
  'ha-restart-worker': async ({ ha, random }) => {
    const group = random.int(1, 2);
    await patronictl('restart', 'citus-ingest-ha', `worker${group}`, '--group', String(group), '--force');
    await stackHealthy(ha!);
  },
  'ha-restart-pgbouncer': async ({ ha, random }) => {
    await haLocal('stop-pooler');
    await sleep(random.int(500, 2000));
    await haLocal('start-pooler');
    await stackHealthy(ha!);
  },
  'ha-restart-haproxy': async ({ ha, random }) => {
    await haLocal('stop-proxy');
    await sleep(random.int(500, 2000));
    await haLocal('start-proxy');
    await stackHealthy(ha!);
  },
};
