import { clientWith, type HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/** The part of a pg `Pool` or `Client` the check uses. */
export interface PgLikeClient {
  query(sql: string): Promise<unknown>
}

/**
 * Checks PostgreSQL with `SELECT 1`. A pg `Pool` takes a connection for it and
 * gives it back; a `Client` must be connected.
 *
 * @param client - a pg `Pool` or connected `Client` (or anything with a promise `query(sql)`)
 */
export function pgCheck(client: PgLikeClient): HealthCheck {
  clientWith('client', client, 'query', 'must be a pg Pool or Client with a query() method')
  return async (signal) => {
    await raceAbort(client.query('SELECT 1'), signal)
  }
}
