// Sessions side by side: @uptimekit/session (Express and Fastify) against plain express-session +
// connect-redis 8 on a default ioredis client, all on one redis-server this script starts on a
// spare port. Run from the repo root: `node bench/session.mjs`.
//
// 1. Anonymous GET (no cookie): throughput, p99 and Redis commands per request.
// 2. Logged-in read-only GET: throughput, p99 and Redis commands per request.
// 3. Redis frozen (SIGSTOP) for 4 s: how the same logged-in GET is answered.
// 4. Redis Cluster of 3 masters (no replicas) against one Redis: logged-in reads and writes of 60
//    sessions spread over the slots, for each contender on both; then connect-redis' and our
//    listing operations (ids, length, all, clear) on the cluster.
// BENCH_ONLY=single or BENCH_ONLY=cluster runs one part.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import express from 'express'
import session from 'express-session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { createRedisClient, RedisSessionStore } from '@uptimekit/session'
import { redisSession } from '@uptimekit/session/express'
import { redisSessionPlugin } from '@uptimekit/session/fastify'

const versionOf = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    .version
const SECRET = 'bench-secret-that-is-long-enough-for-us-1234'
const DURATION_S = 4
const CONNECTIONS = 20
const silent = { info() {}, warn() {}, error() {} }

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address()
    probe.close(() => resolve(port))
  })
})
const redisServer = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', ''],
  {
    stdio: 'ignore',
  },
)
process.on('exit', () => redisServer.kill('SIGKILL'))
const admin = new Redis(port, '127.0.0.1', { retryStrategy: () => 200 })
admin.on('error', () => {})
for (let i = 0; i < 100 && (await admin.ping().catch(() => '')) !== 'PONG'; i++) {
  await new Promise((resolve) => setTimeout(resolve, 50))
}

const routes = (app) => {
  app.post('/login', (req, res) => {
    req.session.userId = 'ada'
    res.json({ ok: true })
  })
  app.get('/me', (req, res) => res.json({ userId: req.session.userId ?? null }))
  app.post('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    res.json({ visits: req.session.visits })
  })
}

async function listenExpress(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }
}

const single = {
  name: 'one Redis',
  plain() {
    const client = new Redis(port, '127.0.0.1')
    client.on('error', () => {})
    return client
  },
  ours: () => createRedisClient(`redis://127.0.0.1:${port}`, { logger: silent }),
  admins: () => [admin],
}

const contenders = [
  {
    label: 'express-session + connect-redis (baseline)',
    async start(backend, prefix) {
      const client = backend.plain()
      const app = express()
      app.use(
        session({
          store: new RedisStore({ client, prefix }),
          secret: SECRET,
          resave: false,
          saveUninitialized: false,
        }),
      )
      routes(app)
      const served = await listenExpress(app)
      return { ...served, client }
    },
  },
  {
    label: '@uptimekit/session express',
    async start(backend, prefix) {
      const client = backend.ours()
      const app = express()
      app.use(redisSession({ redis: client, secret: SECRET, prefix, logger: silent }))
      routes(app)
      const served = await listenExpress(app)
      return { ...served, client }
    },
  },
  {
    label: '@uptimekit/session fastify',
    async start(backend, prefix) {
      const client = backend.ours()
      const app = Fastify()
      await app.register(redisSessionPlugin, {
        redis: client,
        secret: SECRET,
        prefix,
        logger: silent,
      })
      app.post('/login', async (request) => {
        request.session.set('userId', 'ada')
        return { ok: true }
      })
      app.get('/me', async (request) => ({ userId: request.session.get('userId') ?? null }))
      app.post('/visit', async (request) => {
        const visits = (request.session.get('visits') ?? 0) + 1
        request.session.set('visits', visits)
        return { visits }
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        url: `http://127.0.0.1:${app.server.address().port}`,
        close: () => app.close(),
        client,
      }
    },
  },
]

// The load generator's and the clients' own housekeeping, not session commands.
const HOUSEKEEPING = /^(info|config|cluster|command|ping|client|hello|readonly|select)(\||$)/

async function commandCount(admins) {
  let total = 0
  for (const node of admins) {
    const info = await node.info('commandstats')
    for (const [, command, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!HOUSEKEEPING.test(command)) total += Number(calls)
    }
  }
  return total
}

async function load(url, options, { frozen = false, admins = [admin] } = {}) {
  // While Redis is frozen even the admin connection would hang: no command statistics then.
  if (!frozen) await Promise.all(admins.map((node) => node.config('RESETSTAT')))
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    timeout: 10,
    ...options,
  })
  const commands = frozen ? 0 : await commandCount(admins)
  return { result, commandsPerRequest: commands / Math.max(1, result.requests.total) }
}

const until = async (client) => {
  while (client.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 20))
}
const ratio = (value, baseline) => (baseline > 0 ? `${(value / baseline).toFixed(2)}×` : 'n/a')
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const only = process.env.BENCH_ONLY

if (only === undefined || only === 'single') {
  const rows = []
  for (const [index, contender] of contenders.entries()) {
    const app = await contender.start(single, `bench-single-${index}:`)
    await until(app.client)
    const login = await fetch(`${app.url}/login`, { method: 'POST' })
    const cookie = login.headers.getSetCookie()[0].split(';')[0]
    const anonymous = await load(`${app.url}/me`, {})
    const loggedIn = await load(`${app.url}/me`, { headers: { cookie } })
    redisServer.kill('SIGSTOP')
    const frozen = await load(`${app.url}/me`, { headers: { cookie } }, { frozen: true })
    redisServer.kill('SIGCONT')
    // Let the baseline's hung commands drain before the next contender starts.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    rows.push({ label: contender.label, anonymous, loggedIn, frozen })
    app.client.disconnect()
    await app.close()
  }

  const base = rows[0]
  console.log(
    '| contender | anonymous req/s (ratio) | anonymous Redis cmds/req | logged-in read req/s (ratio) | logged-in p99 ms | logged-in Redis cmds/req | Redis frozen 4 s: answered (2xx / 503 / timeouts) | frozen p99 ms |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (const row of rows) {
    const f = row.frozen.result
    const answered = `${fmt(f['2xx'])} / ${fmt(f['5xx'])} / ${fmt(f.timeouts)}`
    console.log(
      `| ${row.label} | ${fmt(row.anonymous.result.requests.average)} (${ratio(row.anonymous.result.requests.average, base.anonymous.result.requests.average)}) | ${row.anonymous.commandsPerRequest.toFixed(2)} | ${fmt(row.loggedIn.result.requests.average)} (${ratio(row.loggedIn.result.requests.average, base.loggedIn.result.requests.average)}) | ${row.loggedIn.result.latency.p99} | ${row.loggedIn.commandsPerRequest.toFixed(2)} | ${answered} | ${f.latency.p99} |`,
    )
  }
  console.log('')
}

// A port whose cluster bus port (port + 10000) is free too.
const free = (candidate) =>
  new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(candidate, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
async function clusterPort(taken) {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 25_000)
    if (taken.has(candidate) || taken.has(candidate + 10_000)) continue
    if ((await free(candidate)) && (await free(candidate + 10_000))) {
      taken.add(candidate)
      taken.add(candidate + 10_000)
      return candidate
    }
  }
}

/** 3 masters, no replicas, `redis-cli --cluster create`; resolves once every node says ok. */
async function startCluster() {
  const taken = new Set()
  const nodes = []
  const stop = () => {
    for (const node of nodes) {
      node.child.kill('SIGKILL')
      rmSync(node.dir, { recursive: true, force: true })
    }
  }
  process.on('exit', stop)
  for (let i = 0; i < 3; i++) {
    const nodePort = await clusterPort(taken)
    const dir = mkdtempSync(join(tmpdir(), 'uptimekit-bench-cluster-'))
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(nodePort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-node-timeout',
        '2000',
      ],
      { cwd: dir, stdio: 'ignore' },
    )
    nodes.push({ port: nodePort, dir, child })
  }
  const run = promisify(execFile)
  for (const { port: nodePort } of nodes) {
    for (let i = 0; i < 200; i++) {
      const pong = await run('redis-cli', ['-p', String(nodePort), 'PING']).catch(() => ({}))
      if (pong.stdout?.trim() === 'PONG') break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const addresses = nodes.map(({ port: nodePort }) => `127.0.0.1:${nodePort}`)
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'])
  for (const { port: nodePort } of nodes) {
    for (;;) {
      const { stdout } = await run('redis-cli', ['-p', String(nodePort), 'CLUSTER', 'INFO'])
      if (stdout.includes('cluster_state:ok') && stdout.includes('cluster_known_nodes:3')) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return { seeds: nodes.map(({ port: nodePort }) => ({ host: '127.0.0.1', port: nodePort })), stop }
}

/** One listing operation's outcome on a store holding `expected` sessions under its prefix. */
async function listing(name, call, check) {
  try {
    const value = await call()
    return `${name}: ${check(value)}`
  } catch (err) {
    return `${name}: fails (${String(err.message).split('\n')[0]})`
  }
}

async function listingOn(store, expected) {
  const outcomes = []
  outcomes.push(
    await listing(
      'ids',
      () => store.ids(),
      (ids) => (ids.length === expected ? 'ok' : `wrong (${ids.length} of ${expected})`),
    ),
  )
  outcomes.push(
    await listing(
      'length',
      () => store.length(),
      (n) => (n === expected ? 'ok' : `wrong (${n} of ${expected})`),
    ),
  )
  outcomes.push(
    await listing(
      'all',
      () => store.all(),
      (all) => (all.length === expected ? 'ok' : `wrong (${all.length} of ${expected})`),
    ),
  )
  outcomes.push(
    await listing(
      'clear',
      async () => {
        await store.clear()
        return store.ids()
      },
      (left) => (left.length === 0 ? 'ok' : `wrong (${left.length} left of ${expected})`),
    ),
  )
  return outcomes.join('; ')
}

if (only === undefined || only === 'cluster') {
  const cluster = await startCluster()
  const admins = cluster.seeds.map(({ host, port: nodePort }) => {
    const node = new Redis(nodePort, host)
    node.on('error', () => {})
    return node
  })
  const onCluster = {
    name: 'cluster, 3 masters',
    plain() {
      const client = new Cluster(cluster.seeds)
      client.on('error', () => {})
      return client
    },
    ours: () => createRedisClient({ cluster: cluster.seeds }, { logger: silent }),
    admins: () => admins,
  }
  const SESSIONS = 60
  const rows = []
  for (const backend of [single, onCluster]) {
    for (const [index, contender] of contenders.entries()) {
      const app = await contender.start(backend, `bench-rw-${index}:`)
      await until(app.client)
      const cookies = []
      for (let i = 0; i < SESSIONS; i++) {
        const login = await fetch(`${app.url}/login`, { method: 'POST' })
        cookies.push(login.headers.getSetCookie()[0].split(';')[0])
      }
      let next = 0
      const withCookie = (req) => ({
        ...req,
        headers: { ...req.headers, cookie: cookies[next++ % SESSIONS] },
      })
      const read = await load(
        app.url,
        { requests: [{ method: 'GET', path: '/me', setupRequest: withCookie }] },
        { admins: backend.admins() },
      )
      const write = await load(
        app.url,
        { requests: [{ method: 'POST', path: '/visit', setupRequest: withCookie }] },
        { admins: backend.admins() },
      )
      rows.push({ backend: backend.name, label: contender.label, read, write })
      app.client.disconnect()
      await app.close()
    }
  }

  const singleOf = (label) => rows.find((row) => row.backend === single.name && row.label === label)
  console.log(
    `| contender | Redis | logged-in read req/s (× one Redis) | read p99 ms | read Redis cmds/req | logged-in write req/s (× one Redis) | write p99 ms | write Redis cmds/req | non-2xx |`,
  )
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const row of rows) {
    const base = singleOf(row.label)
    const r = row.read.result
    const w = row.write.result
    console.log(
      `| ${row.label} | ${row.backend} | ${fmt(r.requests.average)} (${ratio(r.requests.average, base.read.result.requests.average)}) | ${r.latency.p99} | ${row.read.commandsPerRequest.toFixed(2)} | ${fmt(w.requests.average)} (${ratio(w.requests.average, base.write.result.requests.average)}) | ${w.latency.p99} | ${row.write.commandsPerRequest.toFixed(2)} | ${fmt(r.non2xx + w.non2xx + r.errors + w.errors)} |`,
    )
  }

  // Listing on the cluster: 30 sessions stored through each store, then ids, length, all, clear.
  const plain = onCluster.plain()
  const ours = onCluster.ours()
  await until(plain)
  await until(ours)
  const theirs = new RedisStore({ client: plain, prefix: 'bench-list-theirs:' })
  const own = new RedisSessionStore({ redis: ours, prefix: 'bench-list-ours:', logger: silent })
  const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }
  for (let i = 0; i < 30; i++) {
    await theirs.set(`sid-${i}`, { cookie, userId: `u${i}` })
    await own.save(`sid-${i}`, { cookie: { originalMaxAge: 60_000 }, userId: `u${i}` })
  }
  console.log(`\nListing 30 sessions on the cluster:`)
  console.log(`- express-session + connect-redis: ${await listingOn(theirs, 30)}`)
  console.log(`- @uptimekit/session RedisSessionStore: ${await listingOn(own, 30)}`)
  plain.disconnect()
  ours.disconnect()
  for (const node of admins) node.disconnect()
  cluster.stop()
}

console.log(
  `\nNode ${process.version}; express ${versionOf('express')}, express-session ${versionOf('express-session')}, connect-redis ${versionOf('connect-redis')}, fastify ${versionOf('fastify')}, ioredis ${versionOf('ioredis')}, autocannon ${versionOf('autocannon')}; ${CONNECTIONS} connections, ${DURATION_S} s per cell, one redis-server ${port}.`,
)
admin.disconnect()
redisServer.kill('SIGKILL')
