// The Azure Blob settings (AZURE_*), read from an environment-like record by the configuration at start:
// undefined when Azure is not configured, an Error naming the variables when it is half configured.
// The variable names are the Azure SDKs' own, so an environment set up for the az CLI or Spark works.
import { isAccountName, isContainerName } from './url.js';

export type AzureCredentials =
  /** AZURE_STORAGE_CONNECTION_STRING: the account and its key or SAS, and the endpoint (BlobEndpoint=), in one. */
  | { kind: 'connectionString'; connectionString: string }
  /** AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, with AZURE_STORAGE_ENDPOINT when not https://ACCOUNT.blob.core.windows.net. */
  | { kind: 'sharedKey'; account: string; key: string; endpoint: string | undefined };

export interface AzureSettings {
  credentials: AzureCredentials;
  /** Containers jobs may read; empty means any. From AZURE_ALLOWED_CONTAINERS (comma-separated). */
  allowedContainers: string[];
}

const fail = (message: string): never => {
  throw new Error(`invalid configuration: ${message}`);
};

/** The AZURE_* settings in `env`; empty strings count as unset. */
export function azureSettings(env: Readonly<Record<string, string | undefined>>): AzureSettings | undefined {
  const get = (name: string): string | undefined => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim());
  const connectionString = get('AZURE_STORAGE_CONNECTION_STRING');
  const account = get('AZURE_STORAGE_ACCOUNT');
  const key = get('AZURE_STORAGE_KEY');
  const endpoint = get('AZURE_STORAGE_ENDPOINT');
  const allowed = get('AZURE_ALLOWED_CONTAINERS');

  if (connectionString === undefined && account === undefined && key === undefined) {
    if (endpoint !== undefined || allowed !== undefined) {
      fail(`${endpoint !== undefined ? 'AZURE_STORAGE_ENDPOINT' : 'AZURE_ALLOWED_CONTAINERS'} is set but Azure is not: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY`);
    }
    return undefined;
  }
  const allowedContainers = (allowed ?? '').split(',').map((c) => c.trim()).filter(Boolean);
  const bad = allowedContainers.find((c) => !isContainerName(c));
  if (bad !== undefined) fail(`AZURE_ALLOWED_CONTAINERS names ${JSON.stringify(bad)}, which is not an Azure container name (3-63 lower-case letters, digits and hyphens)`);

  if (connectionString !== undefined) {
    if (account !== undefined || key !== undefined || endpoint !== undefined) {
      fail('set either AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY (+ AZURE_STORAGE_ENDPOINT), not both');
    }
    // Checked for its shape only; never echoed, it holds the key.
    if (!/(^|;)\s*(AccountName|BlobEndpoint)=/i.test(connectionString) && !/(^|;)\s*UseDevelopmentStorage=true/i.test(connectionString)) {
      fail('AZURE_STORAGE_CONNECTION_STRING has neither AccountName= nor BlobEndpoint=; copy it from the storage account\'s "Access keys" page');
    }
    return { credentials: { kind: 'connectionString', connectionString }, allowedContainers };
  }
  if (account === undefined) return fail('AZURE_STORAGE_KEY is set without AZURE_STORAGE_ACCOUNT; set both, or AZURE_STORAGE_CONNECTION_STRING instead');
  if (key === undefined) return fail('AZURE_STORAGE_ACCOUNT is set without AZURE_STORAGE_KEY; set both, or AZURE_STORAGE_CONNECTION_STRING instead');
  if (!isAccountName(account)) fail(`AZURE_STORAGE_ACCOUNT ${JSON.stringify(account)} is not a storage account name (3-24 lower-case letters and digits)`);
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    fail(`AZURE_STORAGE_ENDPOINT must be the blob endpoint's http(s) URL (Azurite: http://127.0.0.1:10000/${account}), not ${JSON.stringify(endpoint)}`);
  }
  return { credentials: { kind: 'sharedKey', account, key, endpoint }, allowedContainers };
}
