// Runs a client program as a child process, timed from spawn to exit, with its peak RSS sampled from
// /proc, and its output kept for the error message when it fails.
import { spawn } from 'node:child_process';
import { CLIENT_SAMPLE_INTERVAL_MS, reapedChildrenCpuSeconds, sampleRss } from '../measure.js';
import { track } from './live.js';

export interface ChildResult {
  seconds: number;
  peakRssMb: number | null;
  /** The child's user + system CPU seconds. */
  cpuS: number;
  stdout: string;
  stderr: string;
}

/** Keeps the last `limit` characters of a stream's output. */
function tail(limit = 16_000): { add(chunk: Buffer): void; text(): string } {
  let text = '';
  return {
    add(chunk) {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    text: () => text,
  };
}

/**
 * Spawns `command` (a real binary, not a wrapper script, so the memory sampled is the client's) and
 * resolves when it exits 0; rejects with the tail of its output otherwise.
 */
export async function runChild(command: string, args: string[]): Promise<ChildResult> {
  const out = tail();
  const err = tail();
  const cpu0 = await reapedChildrenCpuSeconds();
  const t0 = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', out.add);
  child.stderr.on('data', err.add);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const untrack = track(async () => {
    child.kill('SIGKILL');
    await exited.catch(() => {});
  });
  void exited.then(untrack, untrack);
  const pid = child.pid;
  const sampler = pid === undefined ? undefined : sampleRss(pid, CLIENT_SAMPLE_INTERVAL_MS);
  let seconds: number;
  let peakRssMb: number | null;
  let code: number | null;
  let signal: NodeJS.Signals | null;
  try {
    ({ code, signal } = await exited);
  } finally {
    seconds = (performance.now() - t0) / 1000;
    peakRssMb = (await sampler?.stop()) ?? null;
  }
  if (code !== 0) {
    const why = signal ? `was killed by ${signal}` : `exited ${code}`;
    throw new Error(`${command} ${why}: ${(err.text() || out.text()).trim().slice(-2000)}`);
  }
  // 'close' comes after the child was waited for, so its CPU time is in this process's children's now.
  const cpuS = (await reapedChildrenCpuSeconds()) - cpu0;
  return { seconds, peakRssMb, cpuS, stdout: out.text(), stderr: err.text() };
}
