import { InvalidOptionError, shown } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/** The part of a mongoose `Connection` the check uses. */
export interface MongooseLikeConnection {
  /** 0 disconnected, 1 connected, 2 connecting, 3 disconnecting, 99 uninitialized. */
  readonly readyState: number
  readonly db?: { command(command: { ping: 1 }): Promise<unknown> } | undefined | null
}

const STATES: Readonly<Record<number, string>> = {
  0: 'disconnected',
  2: 'connecting',
  3: 'disconnecting',
  99: 'uninitialized',
}

/**
 * Checks a mongoose connection: fails at once unless `readyState` is
 * connected, then pings the server through the connection's database.
 *
 * @param connection - `mongoose.connection` or one from `mongoose.createConnection()`
 */
export function mongooseCheck(connection: MongooseLikeConnection): HealthCheck {
  if (
    typeof connection !== 'object' ||
    connection === null ||
    typeof connection.readyState !== 'number'
  ) {
    throw new InvalidOptionError(
      'connection',
      'must be a mongoose Connection (with readyState)',
      shown(connection),
    )
  }
  return async (signal) => {
    const { readyState, db } = connection
    if (readyState !== 1 || db === undefined || db === null) {
      throw new Error(`mongoose connection is ${STATES[readyState] ?? `in state ${readyState}`}`)
    }
    await raceAbort(db.command({ ping: 1 }), signal)
  }
}
