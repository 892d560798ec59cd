import { mysqlRoleDetails, withMethods, type SqlRows } from '@uptimekit/internal'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import { judgeRole, roleOptions, type RoleCheckOptions } from './node-role.js'
import { datastore } from './component-type.js'

/** The part of a `mysql2/promise` pool or connection the check uses. */
export interface MysqlPromiseClient {
  query(sql: string): Promise<unknown>
}

/** The part of a callback-flavour `mysql2` pool or connection the check uses (told apart by `promise()`). */
export interface MysqlCallbackClient {
  query(sql: string, callback: (error: Error | null, rows?: unknown) => void): unknown
  promise(): unknown
}

/** A mysql2 pool or connection, promise or callback flavour. */
export type MysqlLikeClient = MysqlPromiseClient | MysqlCallbackClient

const isCallbackFlavour = (client: MysqlLikeClient): client is MysqlCallbackClient =>
  typeof (client as Partial<MysqlCallbackClient>).promise === 'function'

/** Runs `sql` through either flavour and resolves to its rows. */
function queryRows(client: MysqlLikeClient, sql: string): Promise<unknown> {
  if (!isCallbackFlavour(client)) {
    return client.query(sql).then((result) => (result as unknown[])[0])
  }
  return new Promise((resolve, reject) => {
    client.query(sql, (error, rows) => (error ? reject(error) : resolve(rows)))
  })
}

/**
 * Checks MySQL/MariaDB through a mysql2 pool or connection, promise or callback flavour. Without
 * options, `SELECT 1`. With `{ role, maxLagSeconds }`, `@@read_only` and `SHOW REPLICA STATUS`
 * (`SHOW SLAVE STATUS` on older servers) say what the node is: a replica needs its IO and SQL
 * threads running for its lag (`Seconds_Behind_Source`) to be known. The details report
 * `{ role, writable, lagSeconds, link }`.
 *
 * @param client - a mysql2 `Pool`/`Connection` from `mysql2` or `mysql2/promise`
 * @param options - the role the node must have and the most lag it may have
 */
export function mysqlCheck(client: MysqlLikeClient, options?: RoleCheckOptions): HealthCheck {
  withMethods(
    'client',
    client,
    ['query'],
    'must be a mysql2 pool or connection with a query() method',
  )
  const wanted = roleOptions('mysqlCheck', options)
  if (wanted === undefined) {
    return datastore(async (signal) => {
      await raceAbort(queryRows(client, 'SELECT 1'), signal)
    })
  }
  return datastore(async (signal) => {
    const rows: SqlRows = (sql) => raceAbort(queryRows(client, sql), signal) as ReturnType<SqlRows>
    return judgeRole(await mysqlRoleDetails(rows), wanted)
  })
}
