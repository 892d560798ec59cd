// Probe storm and probe overhead, autocannon in this process against servers in this process:
// 50 keep-alive connections on /health with one check taking 20 ms, @uptimekit/health (cacheMs 1000)
// against @godaddy/terminus, then /live against a bare route of the same framework.
// Seconds per case: BENCH_SECONDS (default 8).
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import express from 'express'
import Fastify from 'fastify'
import { createTerminus } from '@godaddy/terminus'
import { createHealth } from '@uptimekit/health'
import { healthRouter } from '@uptimekit/health/express'
import { healthPlugin } from '@uptimekit/health/fastify'

const require = createRequire(import.meta.url)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONNECTIONS = 50
const CHECK_MS = 20

function slowCheck() {
  const counter = { runs: 0 }
  counter.check = async () => {
    counter.runs++
    await sleep(CHECK_MS)
  }
  return counter
}

async function listenExpress(app) {
  const server = createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => closeServer(server),
  }
}

function closeServer(server) {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(resolve))
}

async function listenFastify(app) {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}

const variants = {
  'express + @uptimekit/health': async (counter) => {
    const health = createHealth({ checks: { db: counter.check }, cacheMs: 1000 })
    const app = express()
    app.use(healthRouter(health))
    return listenExpress(app)
  },
  'express + @godaddy/terminus': async (counter) => {
    const app = express()
    const target = await listenExpress(app)
    createTerminus(target.server, { healthChecks: { '/health': counter.check }, signals: [] })
    return target
  },
  'fastify + @uptimekit/health': async (counter) => {
    const health = createHealth({ checks: { db: counter.check }, cacheMs: 1000 })
    const app = Fastify()
    await app.register(healthPlugin, { health })
    return listenFastify(app)
  },
  'express bare route': async () => {
    const app = express()
    app.get('/live', (_req, res) => {
      res.json({ status: 'ok' })
    })
    return listenExpress(app)
  },
  'express + @uptimekit/health ': async () => {
    const app = express()
    app.use(healthRouter(createHealth()))
    return listenExpress(app)
  },
  'fastify bare route': async () => {
    const app = Fastify()
    app.get('/live', () => ({ status: 'ok' }))
    return listenFastify(app)
  },
  'fastify + @uptimekit/health ': async () => {
    const app = Fastify()
    await app.register(healthPlugin)
    return listenFastify(app)
  },
}

async function measure(name, path) {
  const counter = slowCheck()
  const target = await variants[name](counter)
  // A short warm-up lets V8 optimise the handlers before the measured run.
  await autocannon({ url: `${target.url}${path}`, connections: CONNECTIONS, duration: 1 })
  counter.runs = 0
  const result = await autocannon({
    url: `${target.url}${path}`,
    connections: CONNECTIONS,
    duration: SECONDS,
  })
  await target.close()
  return {
    name: name.trim(),
    path,
    rps: result.requests.average,
    p99: result.latency.p99,
    runs: counter.runs,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  }
}

// Neighbours in time share the machine's load best, so each framework's cases run back to back.
const order = [
  ['express bare route', '/live'],
  ['express + @uptimekit/health ', '/live'],
  ['express + @uptimekit/health', '/health'],
  ['express + @godaddy/terminus', '/health'],
  ['fastify bare route', '/live'],
  ['fastify + @uptimekit/health ', '/live'],
  ['fastify + @uptimekit/health', '/health'],
]
const results = new Map()
for (const [name, path] of order) results.set(`${name.trim()} ${path}`, await measure(name, path))
const pick = (key) => results.get(key)
const terminus = pick('express + @godaddy/terminus /health')
const storm = [
  terminus,
  pick('express + @uptimekit/health /health'),
  pick('fastify + @uptimekit/health /health'),
]
const live = [
  pick('express bare route /live'),
  pick('express + @uptimekit/health /live'),
  pick('fastify bare route /live'),
  pick('fastify + @uptimekit/health /live'),
]

const fmt = (n) => Math.round(n).toLocaleString('en-US')
const ratio = (a, b) => `${(a / b).toFixed(2)}×`
const rows = [
  '| case | path | req/s | p99 (ms) | check runs | requests | non-2xx/errors | req/s vs baseline |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
]
for (const r of storm) {
  rows.push(
    `| ${r.name} | /health (check ${CHECK_MS} ms) | ${fmt(r.rps)} | ${r.p99} | ${fmt(r.runs)} | ${fmt(r.requests)} | ${r.failures} | ${r === terminus ? 'baseline' : ratio(r.rps, terminus.rps)} |`,
  )
}
for (let i = 0; i < live.length; i += 2) {
  const [bare, ours] = [live[i], live[i + 1]]
  rows.push(
    `| ${bare.name} | /live | ${fmt(bare.rps)} | ${bare.p99} | – | ${fmt(bare.requests)} | ${bare.failures} | baseline |`,
  )
  rows.push(
    `| ${ours.name} | /live | ${fmt(ours.rps)} | ${ours.p99} | – | ${fmt(ours.requests)} | ${ours.failures} | ${ratio(ours.rps, bare.rps)} |`,
  )
}
const ourHealth = { express: storm[1], fastify: storm[2] }
const ourLive = { express: live[1], fastify: live[3] }
const summary = Object.keys(ourHealth)
  .map((fw) => `${fw} /health is ${ratio(ourHealth[fw].rps, ourLive[fw].rps)} of its /live`)
  .join('; ')
const version = (name) => require(`${name}/package.json`).version
process.stdout.write(
  `${rows.join('\n')}\n\n${summary}. ${CONNECTIONS} connections, ${SECONDS} s per case, autocannon in-process.\n` +
    `Node ${process.version}; express ${version('express')}, fastify ${version('fastify')}, ` +
    `@godaddy/terminus ${version('@godaddy/terminus')}, autocannon ${version('autocannon')}.\n`,
)
