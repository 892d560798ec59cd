import { oneOf, optional, optionsObject, withMethods } from '@uptimekit/internal'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import type { NodeRole } from './node-role.js'
import { datastore } from './component-type.js'

/**
 * The part of a Redis client the check uses; both ioredis (`status`) and node-redis (`isOpen`)
 * clients fit. A `role` check also sends `ROLE`, with ioredis' `call` or node-redis'
 * `sendCommand`.
 */
export interface RedisLikeClient {
  ping(): Promise<unknown>
  /** ioredis: `'ready'` when connected. */
  readonly status?: string
  /** node-redis: false once closed or never connected. */
  readonly isOpen?: boolean
}

/** How each client sends a command by name; ioredis' own `sendCommand` takes a Command object. */
interface CommandSender {
  call?: (command: string) => Promise<unknown>
  sendCommand?: (args: string[]) => Promise<unknown>
}

/** Options of `redisCheck()`. */
export interface RedisCheckOptions {
  /**
   * The role the server must have (`ROLE`): `'primary'` fails on a replica, `'replica'` fails on a
   * primary and on a replica whose link to its primary is down; `'any'` only reports it.
   * @default undefined (plain `PING`, no details)
   */
  role?: NodeRole
}

/** What `redisCheck()` with a `role` reports as its details. */
export interface RedisRoleDetails {
  /** What the server is now. */
  role: 'primary' | 'replica'
  /** Whether it takes writes (a replica is read-only, as `replica-read-only yes` makes it). */
  writable: boolean
  /** A replica's link to its primary (`master_link_status`); `null` on a primary. */
  link: 'up' | 'down' | null
}

// ioredis states in which a PING would only wait in the offline queue for a connection that is gone.
const LOST = new Set(['reconnecting', 'close', 'end'])
const ROLES: readonly NodeRole[] = ['primary', 'replica', 'any']

function sendRole(redis: RedisLikeClient): Promise<unknown> {
  const client = redis as RedisLikeClient & CommandSender
  if (typeof client.call === 'function') return client.call('ROLE')
  if (typeof client.sendCommand === 'function') return client.sendCommand(['ROLE'])
  return Promise.reject(new Error('the client can send no ROLE command (no call or sendCommand)'))
}

/**
 * Reads a `ROLE` reply. A replica's fourth field is `connected` exactly when `INFO replication`
 * says `master_link_status:up` (both read the same replication state), so one command tells both.
 */
function roleDetails(reply: unknown): RedisRoleDetails {
  const fields = Array.isArray(reply) ? (reply as unknown[]).map((f) => String(f)) : []
  if (fields[0] === 'master') return { role: 'primary', writable: true, link: null }
  if (fields[0] === 'slave') {
    return { role: 'replica', writable: false, link: fields[3] === 'connected' ? 'up' : 'down' }
  }
  throw new Error(`unexpected ROLE reply (${fields[0] ?? 'empty'})`)
}

/**
 * Checks a Redis connection with `PING`, or with `{ role }` with `ROLE`, reporting
 * `{ role, writable, link }`. Fails at once while the connection is lost (ioredis
 * `reconnecting`/`close`/`end`, node-redis closed) rather than letting the offline queue hold the
 * command until the timeout; while the client is still connecting, the command waits for it (up
 * to the timeout).
 *
 * @param client - an ioredis `Redis`/`Cluster` or a node-redis client
 * @param options - the role the server must have
 */
export function redisCheck(client: RedisLikeClient, options?: RedisCheckOptions): HealthCheck {
  withMethods('client', client, ['ping'], 'must be a Redis client with a ping() method')
  const given = optionsObject('redisCheck', options, ['role'])
  const wanted = optional(given.role, (v) => oneOf('role', v, ROLES))
  return datastore(async (signal) => {
    if (typeof client.status === 'string' && LOST.has(client.status)) {
      throw new Error(`redis connection is ${client.status}`)
    }
    if (client.isOpen === false) throw new Error('redis client is closed')
    if (wanted === undefined) {
      await raceAbort(client.ping(), signal)
      return undefined
    }
    const details = roleDetails(await raceAbort(sendRole(client), signal))
    if (wanted === 'primary' && details.role !== 'primary') {
      throw new Error(`expected a primary, server is a replica (link ${details.link})`)
    }
    if (wanted === 'replica' && details.role !== 'replica') {
      throw new Error('expected a replica, server is a primary')
    }
    if (wanted === 'replica' && details.link !== 'up') {
      throw new Error('replica link to its primary is down (master_link_status:down)')
    }
    return details
  })
}
