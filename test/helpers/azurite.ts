// A real Azure Blob endpoint for tests: Azurite's blob service as a child process on loopback, on a port
// the system picks, keeping blobs in memory. It runs apart from the test process because Azurite reads
// its options from process.argv when loaded, and so that stop() can always end it with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Azurite's one account and its published key (the Azure docs' "well-known" development credentials). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** The blob endpoint, the account in its path: http://127.0.0.1:PORT/devstoreaccount1. */
  endpoint: string;
  connectionString: string;
  account: string;
  key: string;
  /** Kills the process (blobs are lost) and waits until it has exited. */
  stop(): Promise<void>;
}

// The child exits when the test process goes away without calling stop(): its stdin pipe closes then.
const exitWithParent = `data:text/javascript,process.stdin.on('end',()=>process.exit(0)).resume()`;

export async function startAzurite(): Promise<Azurite> {
  const main = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');
  const location = await mkdtemp(join(tmpdir(), 'azurite-'));
  const child = spawn(
    process.execPath,
    [`--import=${exitWithParent}`, main,
      '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence',
      '--silent', '--loose', '--skipApiVersionCheck', '--disableTelemetry'],
    // In memory, Azurite writes nothing; its working directory is a temporary one in case it does.
    { cwd: location, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(location, { recursive: true, force: true });
  };
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (err) {
    await stop();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    endpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`,
    account: AZURITE_ACCOUNT,
    key: AZURITE_KEY,
    stop,
  };
}

/** The port from Azurite's "successfully listens on http://127.0.0.1:PORT" line, or its output when it dies first. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /listens on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) done(() => resolve(Number(m[1])));
    };
    const onExit = (code: number | null): void => fail(new Error(`Azurite exited (${code}) before listening:\n${output}`));
    const fail = (err: Error): void => done(() => reject(err));
    function done(settle: () => void): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
      // Keep draining its output so a full pipe never blocks it.
      child.stdout!.resume();
      child.stderr!.resume();
      settle();
    }
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}
