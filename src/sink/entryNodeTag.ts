// Which node a database client's transactions enter Citus at. Clients of an entry node's pool carry
// the node's name ("host:port", as pg_dist_node names it); the ledgers write it beside each file or
// chunk, so a run can say what each entry node took. A client without a name (DATABASE_URL's pool)
// enters at the coordinator.
const names = new WeakMap<object, string>();

export function tagEntryNode(client: object, node: string): void {
  names.set(client, node);
}

/** The node a client enters at, or null for the coordinator through DATABASE_URL. */
export function entryNodeOf(client: object): string | null {
  return names.get(client) ?? null;
}
