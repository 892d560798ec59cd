import type { StoredCookie, StoredSession } from './stored-session.js'

/** A loaded session's data as it was: each top-level key (but `cookie`) and its JSON. */
export type Snapshot = ReadonlyMap<string, string>

/** What one request did to a loaded session: keys it set (new values) and keys it deleted. */
export interface Changes {
  readonly set: ReadonlyMap<string, unknown>
  readonly deleted: readonly string[]
}

// JSON of one value; `undefined` (and functions) are what JSON.stringify leaves out.
const json = (value: unknown): string | undefined => JSON.stringify(value)

/** Takes a {@link Snapshot} of a session object's data. */
export function snapshot(session: object): Snapshot {
  const out = new Map<string, string>()
  for (const [key, value] of Object.entries(session)) {
    const text = json(value)
    if (key !== 'cookie' && text !== undefined) out.set(key, text)
  }
  return out
}

/** The top-level keys `now` changed or deleted since `base` was taken. */
export function changedKeys(base: Snapshot, now: Record<string, unknown>): Changes {
  const set = new Map<string, unknown>()
  const present = new Set<string>()
  for (const [key, value] of Object.entries(now)) {
    const text = json(value)
    if (key === 'cookie' || text === undefined) continue
    present.add(key)
    if (base.get(key) !== text) set.set(key, value)
  }
  const deleted = [...base.keys()].filter((key) => !present.has(key))
  return { set, deleted }
}

/**
 * Applies `changes` to the session Redis holds now: changed keys take this request's value (in
 * place, so the key order stays), deleted keys go, every other key keeps what Redis has (another
 * request's write), and the cookie is this request's.
 */
export function mergeChanges(
  current: StoredSession,
  changes: Changes,
  cookie: StoredCookie,
): StoredSession {
  const merged: StoredSession = { ...current, cookie }
  for (const [key, value] of changes.set) merged[key] = value
  for (const key of changes.deleted) delete merged[key]
  return merged
}
