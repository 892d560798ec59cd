// Request-metrics overhead: bare Fastify / ours / fastify-metrics and bare Express / ours /
// express-prom-bundle, each next to a second bare server that shows how far two identical servers
// differ on this machine, and next to an empty hook or middleware, the floor of any library that
// measures requests from one. Then the time to render /metrics with 1,000 and 10,000 series, and
// the same servers' instructions per request (metrics-instructions.mjs).
//
// Every slice runs in a fresh server process: on this machine two processes of the same server
// differ by up to 10 % in CPU per request for as long as they live (code and heap placement), so
// one long-lived process per variant measures the process's luck more than the variant. The
// server is pinned to one CPU and autocannon to another where `taskset` exists.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { FRAMEWORKS } from './metrics-variants.mjs'

const require = createRequire(import.meta.url)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const SLICE_SECONDS = Number(process.env.BENCH_SECONDS ?? 1)
const WARM_SECONDS = 2
const CONNECTIONS = 50
const ROUTE = '/users/:id'
const FILE = fileURLToPath(import.meta.url)
const PINNED_ENV = 'UPTIMEKIT_BENCH_PINNED'
const INSTRUCTIONS_BENCH = fileURLToPath(new URL('metrics-instructions.mjs', import.meta.url))

async function fastifyServer(kind) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  // The floor: what any hook-based library pays before doing anything.
  if (kind === 'floor') app.addHook('onRequest', (_req, _reply, done) => done())
  if (kind === 'ours') {
    const { metricsPlugin } = await import('@uptimekit/metrics/fastify')
    await app.register(metricsPlugin)
  } else if (kind === 'peer') {
    const { default: fastifyMetrics } = await import('fastify-metrics')
    await app.register(fastifyMetrics, { endpoint: '/metrics' })
  }
  app.get(ROUTE, (req) => ({ id: req.params.id, name: 'user' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app.server
}

async function expressServer(kind) {
  const { default: express } = await import('express')
  const app = express()
  // The floor: what any middleware pays before doing anything.
  if (kind === 'floor') app.use((_req, _res, next) => next())
  if (kind === 'ours') {
    const { expressMetrics } = await import('@uptimekit/metrics/express')
    app.use(expressMetrics())
  } else if (kind === 'peer') {
    const { default: promBundle } = await import('express-prom-bundle')
    app.use(promBundle({ includeMethod: true, includePath: true }))
  }
  app.get(ROUTE, (req, res) => {
    res.json({ id: req.params.id, name: 'user' })
  })
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

/** Child process: one server, reporting its CPU time between 'mark' and 'read'. */
async function serve(framework, kind) {
  const server = framework === 'fastify' ? await fastifyServer(kind) : await expressServer(kind)
  let mark = process.cpuUsage()
  process.on('message', (msg) => {
    if (msg === 'mark') {
      mark = process.cpuUsage()
      process.send({ type: 'marked' })
    } else if (msg === 'read') {
      const used = process.cpuUsage(mark)
      process.send({ type: 'cpu', micros: used.user + used.system })
    }
  })
  process.send({ type: 'ready', port: server.address().port })
}

const canPin = process.argv[2] !== '--serve' && cpus().length >= 2 && (await hasTaskset())

async function hasTaskset() {
  const probe = spawn('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
  const [code] = await once(probe, 'close').catch(() => [1])
  return code === 0
}

function startServer(framework, kind) {
  const args = [FILE, '--serve', framework, kind]
  const child = canPin
    ? spawn('taskset', ['-c', String(cpus().length - 1), process.execPath, ...args], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return child
}

function ask(child, msg, type) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (m.type === type) {
        child.off('message', onMessage)
        resolve(m)
      }
    }
    child.on('message', onMessage)
    if (msg !== undefined) child.send(msg)
  })
}

async function load(autocannon, port, seconds, overallRate) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/users/42`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate === undefined ? {} : { overallRate }),
  })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: failed requests`)
  return result
}

/**
 * One slice in a fresh server: warm-up, req/s and p99 at full speed, then CPU per request at
 * `rate` (skipped when undefined).
 */
async function slice(autocannon, framework, kind, rate) {
  const child = startServer(framework, kind)
  try {
    const { port } = await ask(child, undefined, 'ready')
    await load(autocannon, port, WARM_SECONDS)
    const full = await load(autocannon, port, SLICE_SECONDS)
    if (rate === undefined) return { rps: full['2xx'] / full.duration }
    await ask(child, 'mark', 'marked')
    const paced = await load(autocannon, port, SLICE_SECONDS, rate)
    const { micros } = await ask(child, 'read', 'cpu')
    return {
      rps: full['2xx'] / full.duration,
      p99: full.latency.p99,
      cpu: micros / paced['2xx'],
    }
  } finally {
    child.kill()
    await once(child, 'exit').catch(() => {})
  }
}

async function frameworkOverhead(autocannon, { name, variants }) {
  // CPU per request is read at a fixed rate every variant sustains: at full speed the rate
  // follows the load generator's share of the machine, and a server doing fewer requests per
  // event-loop turn pays more per request for reasons not its own.
  let slowest = Infinity
  for (const [kind] of variants) {
    slowest = Math.min(slowest, (await slice(autocannon, name, kind)).rps)
  }
  const rate = Math.round(slowest * 0.5)
  const slices = Object.fromEntries(variants.map(([kind]) => [kind, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so drift on this shared machine hits every variant alike.
    for (let i = 0; i < variants.length; i++) {
      const [kind] = variants[(i + round) % variants.length]
      slices[kind].push(await slice(autocannon, name, kind, rate))
    }
  }
  // The CPU ratio is the ratio of the medians over all rounds, with a bootstrap interval: each
  // slice ran in its own process, so rounds are independent samples of both servers.
  const bare = slices.bare
  return variants.map(([kind, label]) => {
    const own = slices[kind]
    const cpuOf = (sample) => median(sample.map((s) => s.cpu))
    const interval = bootstrap(own, bare, (a, b) => cpuOf(a) / cpuOf(b))
    return {
      label,
      rate,
      rps: median(own.map((s) => s.rps)),
      rpsRatio: median(own.map((s) => s.rps)) / median(bare.map((s) => s.rps)),
      p99: median(own.map((s) => s.p99)),
      cpu: cpuOf(own),
      cpuRatio: cpuOf(own) / cpuOf(bare),
      cpuLow: interval.low,
      cpuHigh: interval.high,
    }
  })
}

/** 90 % percentile-bootstrap interval of `statistic(a, b)`, resampling both with replacement. */
function bootstrap(a, b, statistic, resamples = 2000) {
  const pick = (sample) => sample.map(() => sample[Math.floor(Math.random() * sample.length)])
  const values = []
  for (let i = 0; i < resamples; i++) values.push(statistic(pick(a), pick(b)))
  return { low: quantile(values, 0.05), high: quantile(values, 0.95) }
}

async function renderTimes() {
  const { default: Fastify } = await import('fastify')
  const { createMetrics } = await import('@uptimekit/metrics')
  const { metricsPlugin } = await import('@uptimekit/metrics/fastify')
  const out = []
  for (const count of [1000, 10000]) {
    const metrics = createMetrics({
      defaultMetrics: false,
      maxSeriesPerMetric: count + 10,
      logger: false,
    })
    // One route template per series, each asked once: the series come from real requests.
    const app = Fastify()
    await app.register(metricsPlugin, { metrics })
    for (let i = 0; i < count; i++) app.get(`/route/${i}/:id`, () => 'ok')
    await app.ready()
    for (let i = 0; i < count; i++) await app.inject(`/route/${i}/1`)
    await app.close()
    for (const [format, accept] of [
      ['Prometheus text', undefined],
      ['OpenMetrics', 'application/openmetrics-text'],
    ]) {
      await metrics.render({ accept })
      const times = []
      let bytes = 0
      for (let i = 0; i < 5; i++) {
        const start = performance.now()
        const answer = await metrics.render({ accept })
        times.push(performance.now() - start)
        bytes = answer.body.length
      }
      out.push({ count, format, ms: median(times), bytes })
    }
  }
  return out
}

function median(values) {
  return quantile(values, 0.5)
}

// Linear interpolation between the closest ranks.
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low)
}

async function main() {
  const { default: autocannon } = await import('autocannon')
  const lines = [
    '| Variant | req/s | req/s vs bare | p99 (ms) | server CPU per request (µs) at a fixed rate | CPU vs bare | CPU vs bare: 90 % interval |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const framework of FRAMEWORKS) {
    for (const row of await frameworkOverhead(autocannon, framework)) {
      lines.push(
        `| ${row.label} | ${Math.round(row.rps)} | ${row.rpsRatio.toFixed(2)}x | ${row.p99.toFixed(1)} | ${row.cpu.toFixed(1)} (${row.rate} req/s) | ${row.cpuRatio.toFixed(3)}x | ${row.cpuLow.toFixed(2)}–${row.cpuHigh.toFixed(2)}x |`,
      )
    }
  }
  lines.push(
    '',
    '| /metrics render (request histogram + counter) | series | median ms | body KiB |',
    '|---|---:|---:|---:|',
  )
  for (const r of await renderTimes()) {
    lines.push(`| ${r.format} | ${r.count} | ${r.ms.toFixed(1)} | ${(r.bytes / 1024).toFixed(0)} |`)
  }
  const version = (name) => require(`${name}/package.json`).version
  console.log(lines.join('\n'))
  console.log(
    `\nNode ${process.version}; ${CONNECTIONS} connections; ${ROUNDS} rounds, each variant in a fresh server process per round (${WARM_SECONDS} s warm-up, ${SLICE_SECONDS} s at full speed for req/s and p99, ${SLICE_SECONDS} s at a fixed rate for CPU)${canPin ? ', server and load generator pinned to separate CPUs' : ''}; ratios are medians over the rounds divided by bare's medians; the interval is a 90 % bootstrap interval of the CPU ratio; fastify ${version('fastify')}, express ${version('express')}, prom-client ${version('prom-client')}, fastify-metrics ${version('fastify-metrics')} (on @platformatic/prom-client ${version('@platformatic/prom-client')}), express-prom-bundle ${version('express-prom-bundle')}, autocannon ${version('autocannon')}`,
  )
  // The same servers counted in CPU instructions, which repeat where CPU time cannot.
  if (process.env.BENCH_INSTRUCTIONS !== '0') {
    const counted = spawnSync(process.execPath, [INSTRUCTIONS_BENCH], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    console.log(`\n${counted.stdout.trim()}`)
    if (counted.status !== 0) throw new Error(`metrics-instructions.mjs failed (${counted.status})`)
  }
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3], process.argv[4])
} else if (canPin && process.env[PINNED_ENV] === undefined) {
  // Node cannot set its own CPU affinity, so the load generator re-runs itself under taskset.
  const child = spawn('taskset', ['-c', '0', process.execPath, FILE], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_ENV]: '1' },
  })
  const [code] = await once(child, 'exit')
  process.exitCode = code ?? 1
} else {
  await main()
}
