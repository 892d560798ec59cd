import { InvalidOptionError, shown } from '@uptimekit/internal'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import { mongoRoleDetails, type MongoLikeDb } from './mongo.js'
import { judgeRole, roleOptions, type RoleCheckOptions } from './node-role.js'
import { datastore } from './component-type.js'

/** The part of a mongoose `Connection` the check uses. */
export interface MongooseLikeConnection {
  /** 0 disconnected, 1 connected, 2 connecting, 3 disconnecting, 99 uninitialized. */
  readonly readyState: number
  readonly db?: (MongoLikeDb & { admin?(): MongoLikeDb }) | undefined | null
}

const STATES: Readonly<Record<number, string>> = {
  0: 'disconnected',
  2: 'connecting',
  3: 'disconnecting',
  99: 'uninitialized',
}

/**
 * Checks a mongoose connection: fails at once unless `readyState` is connected, then pings the
 * server through the connection's database, or with `{ role, maxLagSeconds }` asks `hello` what
 * the member is (as `mongoCheck` does) and reports `{ role, writable, lagSeconds, link }`.
 *
 * @param connection - `mongoose.connection` or one from `mongoose.createConnection()`
 * @param options - the role the member must have and the most lag it may have
 */
export function mongooseCheck(
  connection: MongooseLikeConnection,
  options?: RoleCheckOptions,
): HealthCheck {
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
  const wanted = roleOptions('mongooseCheck', options)
  return datastore(async (signal) => {
    const { readyState, db } = connection
    if (readyState !== 1 || db === undefined || db === null) {
      throw new Error(`mongoose connection is ${STATES[readyState] ?? `in state ${readyState}`}`)
    }
    if (wanted === undefined) {
      await raceAbort(db.command({ ping: 1 }), signal)
      return undefined
    }
    // replSetGetStatus runs only on the admin database, not the connection's own.
    const admin = typeof db.admin === 'function' ? db.admin() : db
    return judgeRole(await mongoRoleDetails(admin, wanted, signal), wanted)
  })
}
