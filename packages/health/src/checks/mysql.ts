import { InvalidOptionError, shown } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/**
 * The part of a mysql2 pool or connection the check uses: the promise flavour
 * (`mysql2/promise`) returns a promise from `query`; the callback flavour has
 * a `promise()` method and takes a callback.
 */
export interface MysqlLikeClient {
  query(sql: string, callback?: (error: Error | null) => void): unknown
  promise?: () => unknown
}

/**
 * Checks MySQL/MariaDB with `SELECT 1` through a mysql2 pool or connection,
 * promise or callback flavour.
 *
 * @param client - a mysql2 `Pool`/`Connection` from `mysql2` or `mysql2/promise`
 */
export function mysqlCheck(client: MysqlLikeClient): HealthCheck {
  if (typeof client !== 'object' || client === null || typeof client.query !== 'function') {
    throw new InvalidOptionError(
      'client',
      'must be a mysql2 pool or connection with a query() method',
      shown(client),
    )
  }
  const callbackFlavour = typeof client.promise === 'function'
  return async (signal) => {
    const query = callbackFlavour
      ? new Promise<void>((resolve, reject) => {
          client.query('SELECT 1', (error) => (error ? reject(error) : resolve()))
        })
      : (client.query('SELECT 1') as Promise<unknown>)
    await raceAbort(query, signal)
  }
}
