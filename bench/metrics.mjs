// Request-metrics overhead: bare Fastify / ours / fastify-metrics and bare Express / ours /
// express-prom-bundle, each server in its own child process so its CPU time per request can be
// read from process.cpuUsage(); autocannon drives them from this process, variants alternating.
// Then the time to render /metrics with 1,000 and 10,000 series.
import { fork } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const ROUNDS = 12
const CONNECTIONS = 50
const ROUTE = '/users/:id'

async function serve(variant) {
  const [framework, kind] = variant.split(':')
  let server
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify')
    const app = Fastify()
    if (kind === 'ours' || kind === 'lean') {
      const { metricsPlugin } = await import('@uptimekit/metrics/fastify')
      await app.register(metricsPlugin, { defaultMetrics: kind === 'ours' })
    } else if (kind === 'peer') {
      const { default: fastifyMetrics } = await import('fastify-metrics')
      await app.register(fastifyMetrics, { endpoint: '/metrics' })
    }
    app.get(ROUTE, (req) => ({ id: req.params.id, name: 'user' }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    server = app.server
  } else {
    const { default: express } = await import('express')
    const app = express()
    if (kind === 'ours' || kind === 'lean') {
      const { createMetrics } = await import('@uptimekit/metrics')
      const { metricsMiddleware, metricsHandler } = await import('@uptimekit/metrics/express')
      const metrics = createMetrics({ defaultMetrics: kind === 'ours' })
      app.use(metricsMiddleware(metrics))
      app.get('/metrics', metricsHandler(metrics))
    } else if (kind === 'peer') {
      const { default: promBundle } = await import('express-prom-bundle')
      app.use(promBundle({ includeMethod: true, includePath: true }))
    }
    app.get(ROUTE, (req, res) => {
      res.json({ id: req.params.id, name: 'user' })
    })
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  let mark = process.cpuUsage()
  process.on('message', (msg) => {
    if (msg === 'mark') {
      mark = process.cpuUsage()
      process.send({ type: 'marked' })
    } else if (msg === 'read') {
      const used = process.cpuUsage(mark)
      process.send({ type: 'cpu', micros: used.user + used.system })
    } else if (msg === 'exit') {
      server.close()
      process.exit(0)
    }
  })
  process.send({ type: 'ready', port: server.address().port })
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
    child.send(msg)
  })
}

async function load(autocannon, port, seconds, overallRate) {
  return autocannon({
    url: `http://127.0.0.1:${port}/users/42`,
    connections: CONNECTIONS,
    duration: seconds,
    ...(overallRate === undefined ? {} : { overallRate }),
  })
}

async function requestOverhead() {
  const { default: autocannon } = await import('autocannon')
  const variants = [
    ['fastify:bare', 'Fastify bare'],
    ['fastify:ours', 'Fastify + @uptimekit/metrics'],
    ['fastify:lean', 'Fastify + @uptimekit/metrics, defaultMetrics: false'],
    ['fastify:peer', 'Fastify + fastify-metrics'],
    ['express:bare', 'Express bare'],
    ['express:ours', 'Express + @uptimekit/metrics'],
    ['express:lean', 'Express + @uptimekit/metrics, defaultMetrics: false'],
    ['express:peer', 'Express + express-prom-bundle'],
  ]
  const file = fileURLToPath(import.meta.url)
  const runs = []
  const rate = {}
  for (const [variant, label] of variants) {
    const child = fork(file, ['--serve', variant], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const [ready] = await once(child, 'message')
    runs.push({
      variant,
      label,
      child,
      port: ready.port,
      requests: 0,
      micros: 0,
      seconds: 0,
      p99: [],
      slices: [],
      paced: 0,
      warm: 0,
    })
  }
  try {
    for (const run of runs) run.warm = (await load(autocannon, run.port, 1)).requests.average
    // CPU per request is read at a fixed request rate every variant of a framework sustains: at
    // full speed the rate follows the load generator's share of this noisy machine, and a server
    // doing fewer requests per event-loop turn pays more per request for reasons not its own.
    for (const run of runs) {
      const framework = run.variant.split(':')[0]
      rate[framework] = Math.min(rate[framework] ?? Infinity, Math.round(run.warm * 0.5))
    }
    const slice = SECONDS / ROUNDS
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order each round so drift on this shared machine hits every variant alike.
      const order = round % 2 === 0 ? runs : [...runs].reverse()
      for (const run of order) {
        const result = await load(autocannon, run.port, slice)
        await ask(run.child, 'mark', 'marked')
        const paced = await load(autocannon, run.port, slice, rate[run.variant.split(':')[0]])
        const { micros } = await ask(run.child, 'read', 'cpu')
        for (const r of [result, paced]) {
          if (r.non2xx > 0 || r.errors > 0) throw new Error(`${run.label}: failed requests`)
        }
        run.requests += result['2xx']
        run.seconds += result.duration
        run.p99.push(result.latency.p99)
        run.paced += paced['2xx']
        run.micros += micros
        run.slices.push({ rps: result['2xx'] / result.duration, cpu: micros / paced['2xx'] })
      }
    }
  } finally {
    for (const run of runs) run.child.send('exit')
  }
  // Ratios are medians of per-round ratios to the bare run of the same round: slices that ran
  // seconds apart share the machine's load, so drift cancels out better than in run totals.
  return runs.map((run) => {
    const bare = runs.find((r) => r.variant === `${run.variant.split(':')[0]}:bare`)
    return {
      label: run.label,
      rps: run.requests / run.seconds,
      p99: median(run.p99),
      cpuPerRequest: run.micros / run.paced,
      rate: rate[run.variant.split(':')[0]],
      rpsRatio: median(run.slices.map((s, i) => s.rps / bare.slices[i].rps)),
      cpuRatios: run.slices.map((s, i) => s.cpu / bare.slices[i].cpu),
    }
  })
}

async function renderTimes() {
  const { createMetrics } = await import('@uptimekit/metrics')
  const out = []
  for (const count of [1000, 10000]) {
    const metrics = createMetrics({ defaultMetrics: false, maxSeriesPerMetric: count + 10 })
    const tracker = metrics.tracker()
    for (let i = 0; i < count; i++) {
      const res = new EventEmitter()
      res.req = { method: 'GET' }
      res.statusCode = 200
      res.writableFinished = true
      tracker.start(res, metrics.route(`/route/${i}/:id`))
      res.emit('close')
    }
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
      times.sort((a, b) => a - b)
      out.push({ count, format, ms: median(times), bytes })
    }
  }
  return out
}

function median(values) {
  return quantile(values, 0.5)
}

// Linear interpolation between the closest ranks, so the quartiles of 12 slices are stable.
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low)
}

async function main() {
  const rows = await requestOverhead()
  const lines = [
    '| Variant | req/s | req/s vs bare | p99 (ms) | server CPU per request (µs) at a fixed rate | CPU vs bare: median | CPU vs bare: middle half of slices |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of rows) {
    lines.push(
      `| ${row.label} | ${Math.round(row.rps)} | ${row.rpsRatio.toFixed(2)}x | ${row.p99.toFixed(1)} | ${row.cpuPerRequest.toFixed(1)} (${row.rate} req/s) | ${median(row.cpuRatios).toFixed(2)}x | ${quantile(row.cpuRatios, 0.25).toFixed(2)}–${quantile(row.cpuRatios, 0.75).toFixed(2)}x |`,
    )
  }
  const renders = await renderTimes()
  lines.push(
    '',
    '| /metrics render (request histogram + counter) | series | median ms | body KiB |',
    '|---|---:|---:|---:|',
  )
  for (const r of renders) {
    lines.push(`| ${r.format} | ${r.count} | ${r.ms.toFixed(1)} | ${(r.bytes / 1024).toFixed(0)} |`)
  }
  const version = (name) => require(`${name}/package.json`).version
  console.log(lines.join('\n'))
  console.log(
    `\nNode ${process.version}; ${CONNECTIONS} connections, ${SECONDS} s per variant at full speed (req/s, p99) and ${SECONDS} s at a fixed rate (CPU), in ${ROUNDS} alternating slices; ratios are medians of per-slice ratios to bare, the middle half being their 25th–75th percentiles; fastify ${version('fastify')}, express ${version('express')}, prom-client ${version('prom-client')}, fastify-metrics ${version('fastify-metrics')}, express-prom-bundle ${version('express-prom-bundle')}, autocannon ${version('autocannon')}`,
  )
}

if (process.argv[2] === '--serve') await serve(process.argv[3])
else await main()
