import {
  finiteNumber,
  oneOf,
  optional,
  optionsObject,
  type NodeRoleDetails,
} from '@uptimekit/internal'

export type { NodeRoleDetails } from '@uptimekit/internal'

/** Which role a checked node must have. */
export type NodeRole = 'primary' | 'replica' | 'any'

/** Options of a role-aware database check (`pgCheck`, `mysqlCheck`, `mongoCheck`, `mongooseCheck`). */
export interface RoleCheckOptions {
  /**
   * The role the node must have: `'primary'` fails on a read-only node (a replica, or a primary
   * that was demoted), `'replica'` fails on a node that does not replicate, `'any'` only reports
   * what the node is.
   * @default 'any'
   */
  role?: NodeRole
  /**
   * Most replication lag a replica may have, in seconds. Over it, or when the lag cannot be known
   * (replication stopped, no link to the primary), the check fails: unknown lag counts as
   * lagging. A primary has no lag.
   * @default undefined (lag reported, never failed on)
   */
  maxLagSeconds?: number
}

/** Role options, decided. */
export interface WantedRole {
  readonly role: NodeRole
  readonly maxLagSeconds: number | undefined
}

const ROLE_KEYS = ['role', 'maxLagSeconds'] as const
const ROLES: readonly NodeRole[] = ['primary', 'replica', 'any']

/** Checks role options; `undefined` when none were given (the plain reachability check). */
export function roleOptions(owner: string, options: unknown): WantedRole | undefined {
  if (options === undefined) return undefined
  const given = optionsObject(owner, options, ROLE_KEYS)
  return {
    role: optional(given.role, (v) => oneOf('role', v, ROLES)) ?? 'any',
    maxLagSeconds: optional(given.maxLagSeconds, (v) =>
      finiteNumber('maxLagSeconds', v, { min: 0 }),
    ),
  }
}

function described(details: NodeRoleDetails): string {
  const link = details.link === null ? '' : `, link ${details.link}`
  const lag = details.role === 'replica' ? `, lag ${details.lagSeconds ?? 'unknown'}` : ''
  return `${details.role}, ${details.writable ? 'writable' : 'read-only'}${link}${lag}`
}

/**
 * Resolves to `details` when the node fits the wanted role and lag bound, else throws; the message
 * says what the node is, because a failing check shows only its error text.
 */
export function judgeRole(details: NodeRoleDetails, wanted: WantedRole): NodeRoleDetails {
  const { role, maxLagSeconds } = wanted
  if (role === 'primary' && !(details.role === 'primary' && details.writable)) {
    throw new Error(`expected a writable primary, node is ${described(details)}`)
  }
  if (role === 'replica' && details.role !== 'replica') {
    throw new Error(`expected a replica, node is ${described(details)}`)
  }
  if (details.role === 'replica' && maxLagSeconds !== undefined) {
    if (details.lagSeconds === null) {
      throw new Error(`replica lag is unknown, counted as lagging (${described(details)})`)
    }
    if (details.lagSeconds > maxLagSeconds) {
      throw new Error(
        `replica lag ${details.lagSeconds} s is over maxLagSeconds ${maxLagSeconds} (${described(details)})`,
      )
    }
  }
  return details
}
