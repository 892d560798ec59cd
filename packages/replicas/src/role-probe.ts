import {
  mysqlRoleDetails,
  PG_ROLE_SQL,
  pgRoleDetails,
  type NodeRoleDetails,
} from '@uptimekit/internal'
import type { ReplicaSetKind } from './options.js'

/** Asks one node what it is; rejects with `ProbeLateError` when it does not answer in time. */
export type RoleProbe = (deadlineMs: number) => Promise<NodeRoleDetails>

/** The role query did not answer within its deadline (it may still be waiting for a connection). */
export class ProbeLateError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'ProbeLateError'
  }
}

/** Settles with `work`, or rejects after `ms` (drivers take no AbortSignal). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  work.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProbeLateError(ms)), ms)
    timer.unref()
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

type Query = (sql: string) => Promise<unknown>

/** The promise `query` of a mysql2 pool, either flavour. */
function mysqlQuery(pool: object): Query {
  const shaped = pool as { promise?: () => { query: Query }; query?: Query }
  if (typeof shaped.promise === 'function') {
    const wrapped = shaped.promise()
    return (sql) => wrapped.query(sql)
  }
  return (sql) => (shaped.query as Query).call(pool, sql)
}

/** The role probe of one node of the given kind. */
export function roleProbe(kind: ReplicaSetKind, pool: object): RoleProbe {
  if (kind === 'pg') {
    const query = (pool as { query: Query }).query.bind(pool)
    return async (deadlineMs) => pgRoleDetails(await withDeadline(query(PG_ROLE_SQL), deadlineMs))
  }
  const query = mysqlQuery(pool)
  return (deadlineMs) =>
    withDeadline(
      mysqlRoleDetails(async (sql) => ((await query(sql)) as [Record<string, unknown>[]])[0]),
      deadlineMs,
    )
}

// Errors that say the node refused a write because it is read-only now (a demoted primary).
const READ_ONLY_CODES = new Set([
  '25006', // pg: read_only_sql_transaction (cannot execute ... in a read-only transaction)
  'ER_OPTION_PREVENTS_STATEMENT', // MySQL/MariaDB 1290: --read-only
  'ER_READ_ONLY_MODE', // MySQL 1836
])

/** Whether a write failed because the node is read-only: it is no primary, whatever it said last. */
export function isReadOnlyRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && READ_ONLY_CODES.has(code)
}
