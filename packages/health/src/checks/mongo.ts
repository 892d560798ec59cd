import { clientWith, type HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/** The part of a mongodb `MongoClient` the check uses. */
export interface MongoLikeClient {
  db(name: string): { command(command: { ping: 1 }): Promise<unknown> }
}

/**
 * Checks MongoDB with `{ ping: 1 }` on the `admin` database. The driver
 * connects on first use and gives up after its `serverSelectionTimeoutMS`;
 * the check's own timeout answers first when that is longer.
 *
 * @param client - a mongodb `MongoClient`
 */
export function mongoCheck(client: MongoLikeClient): HealthCheck {
  clientWith('client', client, 'db', 'must be a MongoClient with a db() method')
  return async (signal) => {
    await raceAbort(client.db('admin').command({ ping: 1 }), signal)
  }
}
