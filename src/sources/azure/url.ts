// Azure Blob Storage URLs, in the two spellings users bring:
//   az://container/key                                       (DuckDB, fsspec: the account is the configured one)
//   abfss://container@account.dfs.core.windows.net/key       (Spark, Hadoop; also abfs://, and
//   wasbs://container@account.blob.core.windows.net/key       the older wasbs:// on the blob endpoint)
// The rule for ObjectRef.container: "container" when the URL leaves the account to the configuration,
// "account/container" when it names it. The parser is pure, so it cannot know the configured account;
// the source resolves a bare "container" to "configuredAccount/container" (and refuses another account)
// before any request, so every ObjectInfo, and hence every ledger entry, carries "account/container"
// whichever spelling the job used. url(ref) writes az:// for a bare container and abfss:// for a named
// account: parse(url(ref)) gives back `ref`, and a wasbs:// URL comes back as its abfss:// twin.
import { IngestError } from '../../errors.js';
import { checkKey } from '../keys.js';
import type { ObjectRef, SchemeParser } from '../source.js';

const CONTAINER = '[a-z0-9](?:-?[a-z0-9])*';

/** A container name as Azure allows it: 3-63 lower-case letters, digits and single hyphens, a letter or digit at each end. */
export function isContainerName(name: string): boolean {
  return name.length >= 3 && name.length <= 63 && new RegExp(`^${CONTAINER}$`).test(name);
}

/** A storage account name: 3-24 lower-case letters and digits. */
export function isAccountName(name: string): boolean {
  return /^[a-z0-9]{3,24}$/.test(name);
}

const azUrl = /^az:\/\/([^/]*)\/(.*)$/s;
// The account's host decides the endpoint: dfs for abfs(s), blob for wasbs. Host names are case-insensitive.
const accountUrl = /^(abfss|abfs|wasbs):\/\/([^/@]*)@([^/]*)\/(.*)$/s;
const hostSuffix: Record<string, string> = { abfss: '.dfs.core.windows.net', abfs: '.dfs.core.windows.net', wasbs: '.blob.core.windows.net' };

const usage = 'must be az://container/key, abfss://container@account.dfs.core.windows.net/key or wasbs://container@account.blob.core.windows.net/key (a prefix ends in "/")';

function invalid(url: string, field: string, problem: string): IngestError {
  return new IngestError('INVALID_SPEC', `${JSON.stringify(url)}: ${problem}; a source URL ${usage}`, { field, reason: problem });
}

function checkContainer(url: string, field: string, name: string): void {
  if (!isContainerName(name)) {
    throw invalid(url, field, `${JSON.stringify(name)} is not an Azure container name (3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit)`);
  }
}

function checkObjectKey(url: string, field: string, key: string): void {
  if (key === '') throw invalid(url, field, 'names a container but no key or prefix');
  if (key.startsWith('/')) throw invalid(url, field, 'the key starts with "/"');
  checkKey(key, field);
}

function parse(url: string, field: string): ObjectRef {
  const az = azUrl.exec(url);
  if (az) {
    const container = az[1]!;
    const key = az[2]!;
    checkContainer(url, field, container);
    checkObjectKey(url, field, key);
    return { scheme: 'az', container, key };
  }
  const m = accountUrl.exec(url);
  if (!m) throw invalid(url, field, 'not an Azure Blob Storage URL');
  const scheme = m[1]!;
  const container = m[2]!;
  const host = m[3]!;
  const key = m[4]!;
  const suffix = hostSuffix[scheme]!;
  const lowerHost = host.toLowerCase();
  const account = lowerHost.endsWith(suffix) ? lowerHost.slice(0, -suffix.length) : '';
  if (!isAccountName(account)) {
    throw invalid(url, field, `the host ${JSON.stringify(host)} is not a storage account's ${scheme}:// endpoint (account${suffix}, the account 3-24 lower-case letters and digits)`);
  }
  checkContainer(url, field, container);
  checkObjectKey(url, field, key);
  return { scheme: 'az', container: `${account}/${container}`, key };
}

/** The account a ref names, if any, and its container. */
export function splitContainer(ref: Pick<ObjectRef, 'container'>): { account: string | undefined; container: string } {
  const slash = ref.container.indexOf('/');
  return slash < 0
    ? { account: undefined, container: ref.container }
    : { account: ref.container.slice(0, slash), container: ref.container.slice(slash + 1) };
}

function url(ref: ObjectRef): string {
  const { account, container } = splitContainer(ref);
  return account === undefined ? `az://${container}/${ref.key}` : `abfss://${container}@${account}${hostSuffix.abfss}/${ref.key}`;
}

export const azScheme: SchemeParser = {
  scheme: 'az',
  prefixes: ['az://', 'abfss://', 'abfs://', 'wasbs://'],
  shape: 'az://container/path (or abfss://container@account.dfs.core.windows.net/path)',
  parse,
  url,
};
