/** What a database node is, as a role probe found it. */
export interface NodeRoleDetails {
  /** What the node is now; `'unknown'` for a read-only node that does not replicate. */
  role: 'primary' | 'replica' | 'unknown'
  /** Whether the node accepts writes. */
  writable: boolean
  /** Replication lag in seconds (0 on a primary), or `null` when it cannot be known. */
  lagSeconds: number | null
  /** A replica's link to its primary (`'up'`, `'down'`); `null` on a primary. */
  link: 'up' | 'down' | null
}

/**
 * One round trip that says what a PostgreSQL node is. A replica's lag compares the WAL it
 * received with the WAL it replayed: when everything received is replayed the lag is 0 however
 * long ago the last transaction was, so an idle primary does not read as growing lag (the flaw of
 * `now() - pg_last_xact_replay_timestamp()` alone); only while received WAL waits to be replayed
 * is it the age of the last replayed transaction. With no WAL receiver running the replica cannot
 * know what it misses, so its lag is unknown (NULL). `pg_stat_wal_receiver` shows its row (the
 * pid) to any user, its other columns only to `pg_read_all_stats`, so only the row is counted.
 */
export const PG_ROLE_SQL = `SELECT pg_is_in_recovery() AS "inRecovery",
  (SELECT count(*) FROM pg_stat_wal_receiver)::int AS "receivers",
  CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NULL THEN NULL
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN NULL
    WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
    ELSE GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()))::float8
  END AS "lagSeconds"`

interface PgRoleRow {
  inRecovery: boolean
  receivers: number
  lagSeconds: number | null
}

/** Lag rounded to milliseconds, so details stay readable. */
const roundLag = (seconds: number): number => Math.round(seconds * 1000) / 1000

/** Reads a pg result (`{ rows }`) of {@link PG_ROLE_SQL}. */
export function pgRoleDetails(result: unknown): NodeRoleDetails {
  const row = (result as { rows?: PgRoleRow[] } | null)?.rows?.[0]
  if (row === undefined) throw new Error('the role query returned no row')
  if (!row.inRecovery) return { role: 'primary', writable: true, lagSeconds: 0, link: null }
  return {
    role: 'replica',
    writable: false,
    lagSeconds: row.lagSeconds === null ? null : roundLag(Number(row.lagSeconds)),
    link: row.receivers > 0 ? 'up' : 'down',
  }
}

/** Runs one SQL statement and resolves to its rows (a mysql2 promise `query` gives `[rows, fields]`). */
export type SqlRows = (sql: string) => Promise<readonly Record<string, unknown>[]>

/** A MySQL/MariaDB error meaning the statement's syntax is unknown to this server version. */
const isSyntaxError = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === 'ER_PARSE_ERROR'

/**
 * Says what a MySQL or MariaDB node is: `@@read_only` for writable, `SHOW REPLICA STATUS` (MySQL
 * 8.0.22+, MariaDB 10.5+; `SHOW SLAVE STATUS` on older servers) for replication. A node with a
 * replication channel whose IO or SQL thread runs is a replica; its lag is
 * `Seconds_Behind_Source` (`Seconds_Behind_Master` on MariaDB and older MySQL), and unknown unless
 * both threads run. A node without a running channel is the primary when writable, else unknown.
 */
export async function mysqlRoleDetails(rows: SqlRows): Promise<NodeRoleDetails> {
  const [readOnly] = await rows('SELECT @@global.read_only AS ro')
  const writable = Number(readOnly?.ro) === 0
  let status: readonly Record<string, unknown>[]
  try {
    status = await rows('SHOW REPLICA STATUS')
  } catch (error) {
    if (!isSyntaxError(error)) throw error
    status = await rows('SHOW SLAVE STATUS')
  }
  const channel = status[0]
  const io = channel?.Replica_IO_Running ?? channel?.Slave_IO_Running
  const sql = channel?.Replica_SQL_Running ?? channel?.Slave_SQL_Running
  if (channel === undefined || (io === 'No' && sql === 'No')) {
    return writable
      ? { role: 'primary', writable, lagSeconds: 0, link: null }
      : { role: 'unknown', writable, lagSeconds: null, link: null }
  }
  const behind = channel.Seconds_Behind_Source ?? channel.Seconds_Behind_Master
  const running = io === 'Yes' && sql === 'Yes'
  return {
    role: 'replica',
    writable,
    lagSeconds: running && behind !== null && behind !== undefined ? Number(behind) : null,
    link: io === 'Yes' ? 'up' : 'down',
  }
}
