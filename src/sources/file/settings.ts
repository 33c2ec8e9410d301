// The file:// source's settings: the directories jobs may read below.
// config.ts calls this with the environment and turns a thrown Error into a ConfigError (importing
// ConfigError here would make config.ts and this module import each other).
import { isAbsolute, normalize } from 'node:path';

export interface FileSettings {
  /**
   * Directories jobs may read files below, from LOCAL_SOURCE_ROOTS (comma-separated absolute paths).
   * A source URL must name a path under one of them as written here; symbolic links are resolved and
   * must stay inside a root too. Default empty: every file:// source is refused (SOURCE_FORBIDDEN).
   */
  roots: string[];
}

/** The file:// settings in `env`; throws an Error for a root that is not an absolute path. */
export function fileSettings(env: Readonly<Record<string, string | undefined>>): FileSettings {
  const roots = (env.LOCAL_SOURCE_ROOTS ?? '').split(',').map((root) => root.trim()).filter(Boolean);
  for (const root of roots) {
    if (!isAbsolute(root) || root.includes('\0')) {
      throw new Error(`invalid configuration: LOCAL_SOURCE_ROOTS entry ${JSON.stringify(root)} is not an absolute path`);
    }
  }
  // "/data/" and "/data" are one root; "/" stays "/".
  return { roots: roots.map((root) => normalize(root).replace(/(.)\/+$/, '$1')) };
}
