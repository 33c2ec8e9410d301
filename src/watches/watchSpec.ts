// What POST /watches accepts, and the job spec a watch hands to the submit path for one object or one
// marked directory. A watch's `job` is a job spec without source.url (the object, or the directory
// holding the marker, fills it in) and without source.waitForMarker (`marker` says it).
import { jobSpecSchema, normalizeSpec, type JobSpec, type JobSpecInput } from '../jobs/spec.js';
import type { Static } from '@fastify/type-provider-typebox';
import { Defaulted, OneOfStrings, Type } from '../api/typeboxKit.js';
import type { WatchRow } from '../sql/watches.js';

/** Spark's and Hadoop's marker, the default of a "marker" watch. */
export const DEFAULT_MARKER = '_SUCCESS';
export const watchNamePattern = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

const { $id: _id, ...jobSpecBody } = jobSpecSchema;
const { url: _url, waitForMarker: _marker, ...sourceFields } = jobSpecBody.properties.source.properties;

/** The job spec schema with `source` optional and holding neither url nor waitForMarker. */
const watchJobSchema = {
  ...jobSpecBody,
  required: jobSpecBody.required!.filter((field) => field !== 'source'),
  properties: {
    ...jobSpecBody.properties,
    source: { type: 'object', additionalProperties: false, properties: sourceFields },
  },
};

export const watchBodySchema = Type.Object(
  {
    name: Type.String({ pattern: watchNamePattern }),
    prefix: Type.String({ pattern: '^(s3|gs|az|abfss|abfs|wasbs)://.+/$', maxLength: 4096, description: 'The prefix watched: s3://, gs:// or az:// (or abfss://), ending in /.' }),
    on: Defaulted(
      OneOfStrings(['object', 'marker'], { default: 'marker', description: '"object": load each new object under the prefix; "marker": load a directory when its marker appears.' }),
    ),
    marker: Type.Optional(Type.String({ pattern: '^[^/]+$', maxLength: 200, description: `With "on": "marker", the marker's name (default ${DEFAULT_MARKER}).` })),
    pollSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: 'Also list the prefix this often (at least SCHEDULE_MIN_INTERVAL_SECONDS), so objects whose event was lost are loaded.' }),
    ),
    secret: Type.Optional(
      Type.String({ minLength: 24, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'The secret for the event URLs of senders that cannot set headers; generated when left out.' }),
    ),
    // The job spec's type is the one its own schema (@sinclair/typebox) gives it, as the watch row stores it.
    job: Type.Unsafe<WatchRow['spec']>(watchJobSchema),
  },
  { additionalProperties: false },
);

export type WatchBody = Static<typeof watchBodySchema>;

/**
 * The spec of the job a watch starts for `url`: the object itself ("object"), or the directory holding
 * the marker ("marker", which reads the marker's manifest as any job waiting for one does).
 */
export function watchJobSpec(watch: Pick<WatchRow, 'trigger' | 'marker' | 'spec'>, url: string): JobSpec {
  const { pattern, ...source } = watch.spec.source ?? {};
  const input = {
    ...watch.spec,
    // "object" applies the pattern when it matches an event; the job itself names one object.
    source: watch.trigger === 'marker' ? { ...source, ...(pattern ? { pattern } : {}), url, waitForMarker: watch.marker! } : { ...source, url },
  } as JobSpecInput;
  return normalizeSpec(input);
}
