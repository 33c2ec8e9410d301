// What a test does when something it needs is missing here (the Citus extension, the shared corpus,
// the HA packages): outside CI it skips, saying why, so a bare clone's `npm test` passes for a user
// without them; under CI (CI=true, which .ci/run sets) it fails with the same reason, so a broken
// install can never turn the Citus tests into silent skips.
export const underCi = process.env.CI === 'true';

/**
 * Returns the skip reason for `tap`'s `{ skip }` option, after printing it once as a TAP comment.
 * Under CI it throws instead: the test file fails with the reason.
 */
export function missing(reason: string): string {
  if (underCi) throw new Error(`required under CI but missing: ${reason}`);
  console.log(`# skip: ${reason}`);
  return reason;
}
