// Sessions side by side: @uptimekit/session (Express and Fastify) against plain express-session +
// connect-redis 8 on a default ioredis client, all on one redis-server this script starts on a
// spare port. Run from the repo root: `node bench/session.mjs`.
//
// 1. Anonymous GET (no cookie): throughput, p99 and Redis commands per request.
// 2. Logged-in read-only GET: throughput, p99 and Redis commands per request.
// 3. Redis frozen (SIGSTOP) for 4 s: how the same logged-in GET is answered.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import autocannon from 'autocannon'
import express from 'express'
import session from 'express-session'
import { RedisStore } from 'connect-redis'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createRedisClient } from '@uptimekit/session'
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
}

async function listenExpress(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }
}

const contenders = [
  {
    label: 'express-session + connect-redis (baseline)',
    async start() {
      const client = new Redis(port, '127.0.0.1')
      client.on('error', () => {})
      const app = express()
      app.use(
        session({
          store: new RedisStore({ client, prefix: 'bench-base:' }),
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
    async start() {
      const client = createRedisClient(`redis://127.0.0.1:${port}`, { logger: silent })
      const app = express()
      app.use(
        redisSession({ redis: client, secret: SECRET, prefix: 'bench-ours:', logger: silent }),
      )
      routes(app)
      const served = await listenExpress(app)
      return { ...served, client }
    },
  },
  {
    label: '@uptimekit/session fastify',
    async start() {
      const client = createRedisClient(`redis://127.0.0.1:${port}`, { logger: silent })
      const app = Fastify()
      await app.register(redisSessionPlugin, {
        redis: client,
        secret: SECRET,
        prefix: 'bench-fy:',
        logger: silent,
      })
      app.post('/login', async (request) => {
        request.session.set('userId', 'ada')
        return { ok: true }
      })
      app.get('/me', async (request) => ({ userId: request.session.get('userId') ?? null }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        url: `http://127.0.0.1:${app.server.address().port}`,
        close: () => app.close(),
        client,
      }
    },
  },
]

async function commandCount() {
  const info = await admin.info('commandstats')
  let total = 0
  for (const [, command, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (command !== 'info' && !command.startsWith('config')) total += Number(calls)
  }
  return total
}

async function load(url, headers, { frozen = false } = {}) {
  // While Redis is frozen even the admin connection would hang: no command statistics then.
  if (!frozen) await admin.config('RESETSTAT')
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers,
    timeout: 10,
  })
  const commands = frozen ? 0 : await commandCount()
  return { result, commandsPerRequest: commands / Math.max(1, result.requests.total) }
}

const rows = []
for (const contender of contenders) {
  const app = await contender.start()
  while (app.client.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 20))
  const login = await fetch(`${app.url}/login`, { method: 'POST' })
  const cookie = login.headers.getSetCookie()[0].split(';')[0]
  const anonymous = await load(`${app.url}/me`, {})
  const loggedIn = await load(`${app.url}/me`, { cookie })
  redisServer.kill('SIGSTOP')
  const frozen = await load(`${app.url}/me`, { cookie }, { frozen: true })
  redisServer.kill('SIGCONT')
  // Let the baseline's hung commands drain before the next contender starts.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  rows.push({ label: contender.label, anonymous, loggedIn, frozen })
  app.client.disconnect()
  await app.close()
}

const base = rows[0]
const ratio = (value, baseline) => (baseline > 0 ? `${(value / baseline).toFixed(2)}×` : 'n/a')
const fmt = (n) => Math.round(n).toLocaleString('en-US')
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
console.log(
  `\nNode ${process.version}; express ${versionOf('express')}, express-session ${versionOf('express-session')}, connect-redis ${versionOf('connect-redis')}, fastify ${versionOf('fastify')}, ioredis ${versionOf('ioredis')}, autocannon ${versionOf('autocannon')}; ${CONNECTIONS} connections, ${DURATION_S} s per cell, one redis-server ${port}.`,
)
admin.disconnect()
redisServer.kill('SIGKILL')
