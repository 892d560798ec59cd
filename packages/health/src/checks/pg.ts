import { PG_ROLE_SQL, pgRoleDetails, withMethods } from '@uptimekit/internal'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import { judgeRole, roleOptions, type RoleCheckOptions } from './node-role.js'
import { datastore } from './component-type.js'

/** The part of a pg `Pool` or `Client` the check uses. */
export interface PgLikeClient {
  query(sql: string): Promise<unknown>
}

/**
 * Checks PostgreSQL. Without options, `SELECT 1`. With `{ role, maxLagSeconds }`, one query asks
 * whether the node is in recovery, how far its replay is behind the WAL it received, and whether
 * its WAL receiver runs; the details report `{ role, writable, lagSeconds, link }`. The lag stays 0
 * on a replica of an idle primary and is unknown (so lagging) while the replica has no link.
 * A pg `Pool` takes a connection for the query and gives it back; a `Client` must be connected.
 *
 * @param client - a pg `Pool` or connected `Client` (or anything with a promise `query(sql)`)
 * @param options - the role the node must have and the most lag it may have
 */
export function pgCheck(client: PgLikeClient, options?: RoleCheckOptions): HealthCheck {
  withMethods('client', client, ['query'], 'must be a pg Pool or Client with a query() method')
  const wanted = roleOptions('pgCheck', options)
  if (wanted === undefined) {
    return datastore(async (signal) => {
      await raceAbort(client.query('SELECT 1'), signal)
    })
  }
  return datastore(async (signal) =>
    judgeRole(pgRoleDetails(await raceAbort(client.query(PG_ROLE_SQL), signal)), wanted),
  )
}
