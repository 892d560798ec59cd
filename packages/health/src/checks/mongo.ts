import { withMethods, type NodeRoleDetails } from '@uptimekit/internal'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import { judgeRole, roleOptions, type RoleCheckOptions, type WantedRole } from './node-role.js'
import { datastore } from './component-type.js'

/** The part of a mongodb `Db` the checks use: `command()`. */
export interface MongoLikeDb {
  command(command: Record<string, unknown>): Promise<unknown>
}

/** The part of a mongodb `MongoClient` the check uses. */
export interface MongoLikeClient {
  db(name: string): MongoLikeDb
}

interface HelloReply {
  isWritablePrimary?: boolean
  secondary?: boolean
  primary?: string
}

interface StatusReply {
  members?: { self?: boolean; stateStr?: string; optimeDate?: Date | string }[]
}

/**
 * A secondary's lag from `replSetGetStatus`: the primary's last applied operation time minus its
 * own. `null` (unknown, so lagging) when the command is refused (it needs the `clusterMonitor`
 * role) or no primary is listed.
 */
async function secondaryLag(db: MongoLikeDb, signal: AbortSignal): Promise<number | null> {
  let status: StatusReply
  try {
    status = (await raceAbort(db.command({ replSetGetStatus: 1 }), signal)) as StatusReply
  } catch {
    return null
  }
  const members = status.members ?? []
  const primary = members.find((m) => m.stateStr === 'PRIMARY')?.optimeDate
  const self = members.find((m) => m.self === true)?.optimeDate
  if (primary === undefined || self === undefined) return null
  return Math.max(0, (new Date(primary).getTime() - new Date(self).getTime()) / 1000)
}

/**
 * What a MongoDB member is, from `hello` (`isWritablePrimary`, `secondary`, `primary`), plus a
 * secondary's lag when a lag bound asks for it.
 */
export async function mongoRoleDetails(
  db: MongoLikeDb,
  wanted: WantedRole,
  signal: AbortSignal,
): Promise<NodeRoleDetails> {
  const hello = (await raceAbort(db.command({ hello: 1 }), signal)) as HelloReply
  if (hello.isWritablePrimary === true) {
    return { role: 'primary', writable: true, lagSeconds: 0, link: null }
  }
  if (hello.secondary !== true) {
    return { role: 'unknown', writable: false, lagSeconds: null, link: null }
  }
  const link = typeof hello.primary === 'string' ? 'up' : 'down'
  const lagSeconds =
    wanted.maxLagSeconds === undefined || link === 'down' ? null : await secondaryLag(db, signal)
  return { role: 'replica', writable: false, lagSeconds, link }
}

/**
 * Checks MongoDB on the `admin` database. Without options, `{ ping: 1 }`. With
 * `{ role, maxLagSeconds }`, `hello` says whether the member is the writable primary or a
 * secondary, and `replSetGetStatus` its lag; details report `{ role, writable, lagSeconds, link }`.
 * The driver connects on first use and gives up after its `serverSelectionTimeoutMS`; the check's
 * own timeout answers first when that is longer.
 *
 * @param client - a mongodb `MongoClient` (with `directConnection: true` to check one member)
 * @param options - the role the member must have and the most lag it may have
 */
export function mongoCheck(client: MongoLikeClient, options?: RoleCheckOptions): HealthCheck {
  withMethods('client', client, ['db'], 'must be a MongoClient with a db() method')
  const wanted = roleOptions('mongoCheck', options)
  return datastore(async (signal) => {
    const admin = client.db('admin')
    if (wanted === undefined) {
      await raceAbort(admin.command({ ping: 1 }), signal)
      return undefined
    }
    return judgeRole(await mongoRoleDetails(admin, wanted, signal), wanted)
  })
}
