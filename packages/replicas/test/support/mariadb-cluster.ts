import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { statfsSync } from 'node:fs'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { closedPort } from '../../../../test/support/ports.js'

const run = promisify(execFile)

/** One MariaDB server of a test cluster. */
export interface MariadbServer {
  readonly name: string
  readonly port: number
  /** A pool of its own (max 4 connections), for the test to inspect or drive the server. */
  readonly admin: mysql.Pool
  /**
   * A new `mysql2/promise` pool to this server, database `test`, as the unprivileged user `app`
   * (`read_only` binds it as it binds an application, not root; it has `SLAVE MONITOR` for
   * `SHOW REPLICA STATUS`). Closed with the cluster.
   */
  pool(options?: mysql.PoolOptions): mysql.Pool
  /** Kills the server (SIGKILL: a crash, as a failover test wants); resolves once it exited. */
  stop(): Promise<void>
  /**
   * Makes a replica the primary: stops and forgets its replication, then `read_only = 0`
   * (what an operator or an orchestrator such as MaxScale does).
   */
  promote(): Promise<void>
  /** Makes this server a read-only GTID replica of `source` (`MASTER_USE_GTID = slave_pos`). */
  follow(source: MariadbServer): Promise<void>
  /** Resolves once this server has applied everything `source` has written so far. */
  catchUp(source: MariadbServer): Promise<void>
}

/** A primary and its GTID replicas, each a mariadbd on a spare port, in one temporary directory. */
export interface MariadbCluster {
  readonly primary: MariadbServer
  readonly replicas: readonly MariadbServer[]
  /** Every server, primary first. */
  readonly servers: readonly MariadbServer[]
  /**
   * Resolves once every replica with a running SQL thread has applied all the first primary
   * wrote (use before a failover).
   */
  caughtUp(): Promise<void>
  /** Kills every server and removes the directory. */
  close(): Promise<void>
}

// Tests, not durability: no doublewrite, no flush per commit, small buffers, no performance
// schema, so a server starts in well under a second.
const SETTINGS = [
  '--bind-address=127.0.0.1',
  '--skip-name-resolve',
  '--innodb-buffer-pool-size=16M',
  '--innodb-log-file-size=8M',
  '--innodb-flush-log-at-trx-commit=0',
  '--innodb-doublewrite=0',
  '--sync-binlog=0',
  '--performance-schema=0',
  '--max-connections=80',
]

/**
 * Where the data directories go: /dev/shm when it has room (1 GiB; a container's is often 64 MB,
 * under the 100 MB a cluster of three takes), because the bootstrap of `mariadb-install-db`
 * syncs often and takes 13 s on a busy disk against 2 s in memory.
 */
function scratch(): string {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm')
    if (bavail * bsize >= 2 ** 30) return '/dev/shm'
  } catch {
    // No /dev/shm: the system's temporary directory.
  }
  return tmpdir()
}

/**
 * Starts a MariaDB primary and `replicas` replicas with GTID replication
 * (`CHANGE MASTER TO ... MASTER_USE_GTID = slave_pos`), each a mariadbd with its own data
 * directory, port and socket under one temporary directory. One `mariadb-install-db` makes a
 * template the servers copy; root has no password. Every server writes a binary log with its
 * own `--server-id` and logs what it replicates (`--log-slave-updates`), so a promoted replica
 * can serve the others; `follow()` makes a replica read-only. mariadbd runs as the current user
 * (`--user=root` when that is root, which mariadbd otherwise refuses). Resolves once every
 * replica has applied the primary's `app` user.
 */
export async function startMariadbCluster(replicas = 1): Promise<MariadbCluster> {
  const root = await mkdtemp(join(scratch(), 'uptimekit-mariadb-'))
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : []
  const children: ChildProcess[] = []
  const pools: mysql.Pool[] = []
  const close = async (): Promise<void> => {
    await Promise.allSettled(pools.map((pool) => pool.end()))
    await Promise.allSettled(children.map(kill))
    await rm(root, { recursive: true, force: true })
  }
  try {
    const template = join(root, 'template')
    await writeFile(join(root, 'setup.sql'), 'CREATE DATABASE test;\n')
    await run('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${template}`,
      ...asUser,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
      `--extra-file=${join(root, 'setup.sql')}`,
      ...SETTINGS.filter((setting) => setting.startsWith('--innodb')),
    ])
    const server = async (name: string, serverId: number): Promise<MariadbServer> => {
      const port = await closedPort()
      const dataDir = join(root, name)
      await cp(template, dataDir, { recursive: true })
      const log = join(root, `${name}.err`)
      const child = spawn(
        'mariadbd',
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--port=${port}`,
          `--socket=${join(root, `${name}.sock`)}`,
          `--pid-file=${join(root, `${name}.pid`)}`,
          `--log-error=${log}`,
          ...asUser,
          `--server-id=${serverId}`,
          '--log-bin=binlog',
          '--relay-log=relay',
          '--log-slave-updates',
          '--gtid-strict-mode=1',
          ...SETTINGS,
        ],
        { stdio: 'ignore' },
      )
      children.push(child)
      const connect = (options: mysql.PoolOptions): mysql.Pool => {
        const created = mysql.createPool({ host: '127.0.0.1', port, database: 'test', ...options })
        pools.push(created)
        return created
      }
      const admin = connect({ user: 'root', connectionLimit: 4 })
      await ready(admin, child, log)
      return {
        name,
        port,
        admin,
        pool: (options = {}) => connect({ user: 'app', ...options }),
        stop: () => kill(child),
        promote: async () => {
          await admin.query('STOP SLAVE')
          await admin.query('RESET SLAVE ALL')
          await admin.query('SET GLOBAL read_only = 0')
        },
        follow: async (source) => {
          await admin.query('SET GLOBAL read_only = 1')
          await admin.query('STOP SLAVE')
          await admin.query(
            `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${source.port}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1`,
          )
          await admin.query('START SLAVE')
        },
        catchUp: async (source) => {
          const [[position]] = await source.admin.query<mysql.RowDataPacket[]>(
            'SELECT @@gtid_binlog_pos AS pos',
          )
          const [[waited]] = await admin.query<mysql.RowDataPacket[]>(
            'SELECT MASTER_GTID_WAIT(?, 20) AS waited',
            [position?.pos],
          )
          if (waited?.waited !== 0)
            throw new Error(`${name} did not apply ${position?.pos} in 20 s`)
        },
      }
    }
    const names = ['primary', ...Array.from({ length: replicas }, (_, i) => `replica${i + 1}`)]
    const servers = await Promise.all(names.map((name, i) => server(name, i + 1)))
    const [primary, ...standbys] = servers as [MariadbServer, ...MariadbServer[]]
    // Made on the primary before replication starts, so every replica replays them too.
    await primary.admin.query("CREATE USER 'app'@'127.0.0.1'")
    await primary.admin.query(
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON test.* TO 'app'@'127.0.0.1'",
    )
    await primary.admin.query("GRANT SLAVE MONITOR ON *.* TO 'app'@'127.0.0.1'")
    await Promise.all(standbys.map((standby) => standby.follow(primary)))
    const caughtUp = async (): Promise<void> => {
      await Promise.all(
        standbys.map(async (standby) => {
          const [[status]] = await standby.admin.query<mysql.RowDataPacket[]>('SHOW REPLICA STATUS')
          if (status?.Slave_SQL_Running === 'Yes') await standby.catchUp(primary)
        }),
      )
    }
    await caughtUp()
    return { primary, replicas: standbys, servers, caughtUp, close }
  } catch (error) {
    await close()
    throw error
  }
}

/** Waits until a starting server answers, or fails with its log when it exits or takes 20 s. */
async function ready(pool: mysql.Pool, child: ChildProcess, log: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null || child.signalCode !== null) break
    try {
      await pool.query('SELECT 1')
      return
    } catch {
      await sleep(50)
    }
  }
  const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')
  throw new Error(`mariadbd did not start:\n${tail}`)
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}
