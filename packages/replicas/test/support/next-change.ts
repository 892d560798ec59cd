import type { ReplicaSet, ReplicaSetChange } from '../../src/index.js'

/** Resolves with the first change of `db` that `match` accepts. */
export function nextChange<TPool>(
  db: ReplicaSet<TPool>,
  match: (change: ReplicaSetChange) => boolean,
): Promise<ReplicaSetChange> {
  return new Promise((resolve) => {
    const stop = db.onChange((change) => {
      if (!match(change)) return
      stop()
      resolve(change)
    })
  })
}
