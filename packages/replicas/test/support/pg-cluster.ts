import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { closedPort } from '../../../../test/support/ports.js'

const run = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'

/** One PostgreSQL server of a test cluster. */
export interface PgServer {
  readonly name: string
  readonly port: number
  readonly dataDir: string
  /** A pool of its own (max 4 connections), for the test to inspect or drive the server. */
  readonly admin: pg.Pool
  /** A new pool to this server, closed with the cluster. */
  pool(options?: pg.PoolConfig): pg.Pool
  /** Stops the server (`pg_ctl stop -m immediate`: a crash, as a failover test wants). */
  stop(): Promise<void>
  /** Starts a stopped server again. */
  start(): Promise<void>
  /** Promotes a replica (`pg_ctl promote -w`: returns once it accepts writes). */
  promote(): Promise<void>
}

/** A primary and its streaming replicas, each on a spare port, in one temporary directory. */
export interface PgCluster {
  readonly primary: PgServer
  readonly replicas: readonly PgServer[]
  /** Every server, primary first. */
  readonly servers: readonly PgServer[]
  /** Stops every server and removes the directory. */
  close(): Promise<void>
}

async function asPostgres(command: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', `${BIN}/${command}`, ...args], {
    encoding: 'utf8',
  })
  return stdout
}

const SETTINGS = [
  "listen_addresses = '127.0.0.1'",
  'wal_level = replica',
  'max_wal_senders = 10',
  'hot_standby = on',
  'hot_standby_feedback = on',
  // Tests, not durability: fsync off keeps initdb, base backups and commits fast.
  'fsync = off',
  'full_page_writes = off',
  'shared_buffers = 16MB',
  'max_connections = 60',
  // A stopped primary must be noticed within a second, not a minute.
  'wal_receiver_timeout = 2s',
  'wal_retrieve_retry_interval = 200ms',
]

/**
 * Starts a PostgreSQL 15 primary and `replicas` streaming replicas made with `pg_basebackup -R`,
 * as the `postgres` OS user, data directories and unix sockets under one `mktemp` directory.
 * Resolves once every replica streams.
 */
export async function startPgCluster(replicas = 2): Promise<PgCluster> {
  const root = await mkdtemp(join(tmpdir(), 'uptimekit-pg-'))
  await run('chown', ['postgres:postgres', root])
  const pools: pg.Pool[] = []
  const servers: PgServer[] = []
  const close = async (): Promise<void> => {
    await Promise.allSettled(pools.map((pool) => pool.end()))
    await Promise.allSettled(
      servers.map((server) =>
        asPostgres('pg_ctl', ['stop', '-D', server.dataDir, '-m', 'immediate', '-w']),
      ),
    )
    await rm(root, { recursive: true, force: true })
  }
  try {
    const server = async (name: string): Promise<PgServer> => {
      const port = await closedPort()
      const dataDir = join(root, name)
      const pool = (options: pg.PoolConfig = {}): pg.Pool => {
        const created = new pg.Pool({
          host: '127.0.0.1',
          port,
          user: 'postgres',
          database: 'postgres',
          ...options,
        })
        created.on('error', () => {})
        pools.push(created)
        return created
      }
      const start = async (): Promise<void> => {
        await asPostgres('pg_ctl', [
          'start',
          '-D',
          dataDir,
          '-w',
          '-l',
          join(root, `${name}.log`),
          '-o',
          `-p ${port} -k ${root}`,
        ])
      }
      const made: PgServer = {
        name,
        port,
        dataDir,
        admin: pool({ max: 4 }),
        pool,
        start,
        stop: async () => {
          await asPostgres('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w'])
        },
        promote: async () => {
          await asPostgres('pg_ctl', ['promote', '-D', dataDir, '-w'])
        },
      }
      servers.push(made)
      return made
    }
    const primary = await server('primary')
    await asPostgres('initdb', [
      '-D',
      primary.dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
    ])
    await appendFile(join(primary.dataDir, 'postgresql.conf'), `${SETTINGS.join('\n')}\n`)
    await writeFile(
      join(primary.dataDir, 'pg_hba.conf'),
      'local all all trust\nhost all all 127.0.0.1/32 trust\nlocal replication all trust\nhost replication all 127.0.0.1/32 trust\n',
    )
    await primary.start()
    const standbys: PgServer[] = []
    for (let i = 1; i <= replicas; i++) {
      const replica = await server(`replica${i}`)
      await asPostgres('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        `${primary.port}`,
        '-U',
        'postgres',
        '-D',
        replica.dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ])
      await replica.start()
      standbys.push(replica)
    }
    for (;;) {
      const { rows } = await primary.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'",
      )
      if (rows[0]?.n === replicas) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return { primary, replicas: standbys, servers, close }
  } catch (error) {
    await close()
    throw error
  }
}

/**
 * Keeps a primary busy: runs `sql` every `pauseMs` until the returned function is called, which
 * resolves once the last statement ended.
 */
export function keepWriting(pool: pg.Pool, sql: string, pauseMs = 10): () => Promise<void> {
  let writing = true
  const writer = (async () => {
    while (writing) {
      await pool.query(sql)
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  })()
  return async () => {
    writing = false
    await writer
  }
}
