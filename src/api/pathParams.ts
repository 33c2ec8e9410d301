// Path parameters more than one route file takes.
import { Type } from './typeboxKit.js';

/** `:id`, a job's id: a UUID (the pattern also keeps the path short and free of other characters). */
export const jobIdParams = Type.Object({ id: Type.String({ format: 'uuid', pattern: '^[0-9a-fA-F-]{36}$' }) });
