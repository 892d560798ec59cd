// @uptimekit/replicas: db.read() overhead against a direct pool.query() on the same pool, and
// read throughput with two streaming replicas against the primary alone. Starts its own
// PostgreSQL 15 primary and two replicas (pg_basebackup -R) on spare ports; needs root (runuser).
// Run: node bench/replicas.mjs (build packages/replicas first: it imports the package's dist).
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createReplicaSet } from '@uptimekit/replicas'
import pg from 'pg'

const BIN = '/usr/lib/postgresql/15/bin'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 0.5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31)
const asPostgres = (cmd, args) =>
  execFileSync('runuser', ['-u', 'postgres', '--', `${BIN}/${cmd}`, ...args], { stdio: 'pipe' })

const spare = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const root = mkdtempSync(join(tmpdir(), 'uptimekit-bench-pg-'))
execFileSync('chown', ['postgres:postgres', root])
const servers = []
const pools = []
const start = (dir, port) =>
  asPostgres('pg_ctl', [
    'start',
    '-D',
    dir,
    '-w',
    '-l',
    `${dir}.log`,
    '-o',
    `-p ${port} -k ${root}`,
  ])
const pool = (port, max) => {
  const made = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max })
  made.on('error', () => {})
  pools.push(made)
  return made
}
async function close() {
  await Promise.allSettled(pools.map((p) => p.end()))
  for (const dir of servers) {
    try {
      asPostgres('pg_ctl', ['stop', '-D', dir, '-m', 'immediate', '-w'])
    } catch {}
  }
  rmSync(root, { recursive: true, force: true })
}

/**
 * Calls `call` from `concurrency` loops for `SECONDS`; resolves to calls per second and this
 * process's CPU time (user + system) per call in microseconds: the part a wrapper adds to.
 */
async function rate(call, concurrency) {
  let done = 0
  const cpu = process.cpuUsage()
  const until = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await call()
        done++
      }
    }),
  )
  const { user, system } = process.cpuUsage(cpu)
  return { perSecond: done / SECONDS, cpuUs: (user + system) / done }
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]

/**
 * Runs a and b in ROUNDS trials after a warm-up each, the order swapped every trial so neither
 * always runs second; resolves to both median rates, the median of the per-trial ratios b/a (each
 * compares two runs a moment apart, so a load change between trials cancels out) and both median
 * CPU times per call.
 */
async function compare(a, b, concurrency) {
  await rate(a, concurrency)
  await rate(b, concurrency)
  const as = []
  const bs = []
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      as.push(await rate(a, concurrency))
      bs.push(await rate(b, concurrency))
    } else {
      bs.push(await rate(b, concurrency))
      as.push(await rate(a, concurrency))
    }
  }
  return {
    a: median(as.map((t) => t.perSecond)),
    b: median(bs.map((t) => t.perSecond)),
    ratios: bs.map((t, i) => t.perSecond / as[i].perSecond),
    ratio: median(bs.map((t, i) => t.perSecond / as[i].perSecond)),
    cpuA: median(as.map((t) => t.cpuUs)),
    cpuB: median(bs.map((t) => t.cpuUs)),
  }
}

try {
  const primaryPort = await spare()
  const primaryDir = join(root, 'primary')
  servers.push(primaryDir)
  asPostgres('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '--no-sync'])
  appendFileSync(
    join(primaryDir, 'postgresql.conf'),
    "listen_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 10\nhot_standby = on\nfsync = off\nmax_connections = 60\n",
  )
  writeFileSync(
    join(primaryDir, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.1/32 trust\nlocal replication all trust\nhost replication all 127.0.0.1/32 trust\n',
  )
  start(primaryDir, primaryPort)
  const replicaPorts = []
  for (const name of ['replica1', 'replica2']) {
    const port = await spare()
    const dir = join(root, name)
    servers.push(dir)
    asPostgres('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', `${primaryPort}`, '-U', 'postgres', '-D', dir],
      ...['-R', '-X', 'stream', '-c', 'fast', '--no-sync'],
    ])
    start(dir, port)
    replicaPorts.push(port)
  }
  const primary = pool(primaryPort, 10)
  const replica1 = pool(replicaPorts[0], 10)
  const replica2 = pool(replicaPorts[1], 10)
  const options = { kind: 'pg', intervalMs: 1000, logger: false }

  // 1. Overhead: the same pool (replica1), directly and through db.read().
  const pair = createReplicaSet({ ...options, nodes: [primary, replica1] })
  await pair.refresh()
  const cheap = (p) => p.query('SELECT 1')
  const overhead = await compare(
    () => cheap(replica1),
    () => pair.read(cheap),
    32,
  )
  pair.close()

  // 2. Scaling: a query that keeps a server busy, over two replicas against the primary alone.
  const heavy = (p) => p.query('SELECT count(*) FROM generate_series(1, 200000)')
  const spread = createReplicaSet({ ...options, nodes: [primary, replica1, replica2] })
  const alone = createReplicaSet({ ...options, nodes: [primary] })
  await Promise.all([spread.refresh(), alone.refresh()])
  const scaling = await compare(
    () => alone.read(heavy),
    () => spread.read(heavy),
    20,
  )
  spread.close()
  alone.close()

  const f = (n) => Math.round(n).toLocaleString('en-US')
  const x = (ratios, digits) => ratios.map((r) => r.toFixed(digits)).join(', ')
  console.log(`node ${process.version}, ${ROUNDS} alternating trials of ${SECONDS} s, medians`)
  console.log(
    `SELECT 1, 32 in flight, one pool: pool.query ${f(overhead.a)}/s, db.read ${f(overhead.b)}/s; median ratio ${overhead.ratio.toFixed(3)}x (trials ${x(overhead.ratios, 3)})`,
  )
  console.log(
    `  this process's CPU per call: pool.query ${overhead.cpuA.toFixed(2)} us, db.read ${overhead.cpuB.toFixed(2)} us`,
  )
  console.log(
    `generate_series(1, 200000), 20 in flight: primary only ${f(scaling.a)}/s, two replicas ${f(scaling.b)}/s; median ratio ${scaling.ratio.toFixed(2)}x (trials ${x(scaling.ratios, 2)})`,
  )
} finally {
  await close()
}
