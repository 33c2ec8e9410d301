// The settings of the sources beyond S3, read from the environment when the service starts, one reader
// per scheme (each in its own folder). A scheme without settings is not configured: a job naming it
// fails SOURCE_NOT_CONFIGURED at submit. S3's settings are the S3_* ones in config.ts.
import { azureSettings, type AzureSettings } from './azure/settings.js';
import { fileSettings, type FileSettings } from './file/settings.js';
import { gcsSettings, type GcsSettings } from './gcs/settings.js';
import { httpsSettings, type HttpsSettings } from './https/settings.js';
import type { EnvRecord } from './settingsEnv.js';

export interface SourceSettings {
  gcs?: GcsSettings;
  azure?: AzureSettings;
  https?: HttpsSettings;
  file?: FileSettings;
}

/** Reads every scheme's settings; throws with the setting's name when one is half-configured or malformed. */
export function readSourceSettings(env: EnvRecord): SourceSettings {
  const gcs = gcsSettings(env);
  const azure = azureSettings(env);
  const https = httpsSettings(env);
  const file = fileSettings(env);
  return { ...(gcs ? { gcs } : {}), ...(azure ? { azure } : {}), ...(https ? { https } : {}), ...(file.roots.length > 0 ? { file } : {}) };
}
