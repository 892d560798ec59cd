import type { ReadStrategy } from './options.js'

/** What a strategy needs to know of a replica. */
export interface Spreadable {
  /** Calls running on it now. */
  readonly inFlight: number
}

/**
 * Picks one of the replicas in rotation for a read. The round-robin cursor belongs to the set,
 * so two sets never share it.
 */
export function readSpreader(
  strategy: ReadStrategy,
): <T extends Spreadable>(replicas: readonly T[]) => T {
  let turn = 0
  const inTurn = <T>(replicas: readonly T[]): T => replicas[turn++ % replicas.length] as T
  if (strategy === 'random') {
    return (replicas) =>
      replicas[Math.floor(Math.random() * replicas.length)] as (typeof replicas)[0]
  }
  if (strategy === 'round-robin') return inTurn
  return (replicas) => {
    let least = Infinity
    for (const replica of replicas) least = Math.min(least, replica.inFlight)
    return inTurn(replicas.filter((replica) => replica.inFlight === least))
  }
}
