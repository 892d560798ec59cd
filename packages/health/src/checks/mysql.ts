import { clientWith, type HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/** The part of a `mysql2/promise` pool or connection the check uses. */
export interface MysqlPromiseClient {
  query(sql: string): Promise<unknown>
}

/** The part of a callback-flavour `mysql2` pool or connection the check uses (told apart by `promise()`). */
export interface MysqlCallbackClient {
  query(sql: string, callback: (error: Error | null) => void): unknown
  promise(): unknown
}

/** A mysql2 pool or connection, promise or callback flavour. */
export type MysqlLikeClient = MysqlPromiseClient | MysqlCallbackClient

const isCallbackFlavour = (client: MysqlLikeClient): client is MysqlCallbackClient =>
  typeof (client as Partial<MysqlCallbackClient>).promise === 'function'

/**
 * Checks MySQL/MariaDB with `SELECT 1` through a mysql2 pool or connection,
 * promise or callback flavour.
 *
 * @param client - a mysql2 `Pool`/`Connection` from `mysql2` or `mysql2/promise`
 */
export function mysqlCheck(client: MysqlLikeClient): HealthCheck {
  clientWith('client', client, 'query', 'must be a mysql2 pool or connection with a query() method')
  return async (signal) => {
    const query = isCallbackFlavour(client)
      ? new Promise<void>((resolve, reject) => {
          client.query('SELECT 1', (error) => (error ? reject(error) : resolve()))
        })
      : client.query('SELECT 1')
    await raceAbort(query, signal)
  }
}
