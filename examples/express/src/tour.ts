// The guided tour (`pnpm demo:tour`): starts the payment upstream and two
// instances of the example, drives load through @uptimekit/balancer, which
// follows each instance's /ready (as a Kubernetes Service does), and
// shows, step by step: steady load, the upstream failing, the breaker
// opening and recovering, and a SIGTERM under load losing no request.
//
//   npx tsx examples/express/src/tour.ts [--framework fastify]
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createBalancer } from '@uptimekit/balancer'
import {
  createPaymentsUpstream,
  type Faults,
  type PhaseStats,
  startLoad,
} from '@uptimekit/example-service'

const { values: args } = parseArgs({
  options: { framework: { type: 'string', default: 'express' } },
})
const framework = args.framework ?? 'express'
if (framework !== 'express' && framework !== 'fastify') {
  console.error(`--framework must be express or fastify (got ${JSON.stringify(framework)})`)
  process.exit(2)
}
const main = fileURLToPath(new URL(`../../${framework}/src/main.ts`, import.meta.url))
// The instances run under the same TypeScript loader as this script.
const loader = import.meta.resolve('tsx')

const TIMINGS = { drainDelayMs: 2000, shutdownTimeoutMs: 10_000, breakerResetMs: 3000 }
const READY_POLL_MS = 250
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const color = process.stdout.isTTY && process.env.NO_COLOR === undefined
const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
const say = (text: string): void => console.log(text)
const step = (n: number, title: string): void => say(`\n${paint(1, `▶ ${n}/5  ${title}`)}`)
const note = (text: string): void => say(`   ${text}`)

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
    server.once('error', reject)
  })
}

async function waitFor(
  what: string,
  withinMs: number,
  test: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${withinMs} ms`)
    await sleep(100)
  }
}

const statusOf = (url: string): Promise<number> =>
  fetch(url).then(
    (res) => res.status,
    () => 0,
  )

/** Which log lines of an instance the tour shows, indented under the step. */
const SHOWN =
  /^\S+ +(INFO|WARN|ERROR) .*(shutdown|readiness|listener closed|drained|close hook|circuit breaker|IN MEMORY)/

let showLogs = true

/** One instance of the example, as a child process. */
interface Instance {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

async function startInstance(name: string, paymentsUrl: string): Promise<Instance> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', loader, main], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      INSTANCE_ID: name,
      PAYMENTS_URL: paymentsUrl,
      BREAKER_FAILURE_THRESHOLD: '5',
      BREAKER_RESET_TIMEOUT_MS: String(TIMINGS.breakerResetMs),
      HEALTH_CACHE_MS: '200',
      DRAIN_DELAY_MS: String(TIMINGS.drainDelayMs),
      SHUTDOWN_TIMEOUT_MS: String(TIMINGS.shutdownTimeoutMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let pending = ''
  const show = (chunk: string): void => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (showLogs && SHOWN.test(line)) say(`      ${paint(2, line)}`)
  }
  child.stdout.setEncoding('utf8').on('data', show)
  child.stderr.setEncoding('utf8').on('data', show)
  const instance: Instance = {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    exited: once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    })),
  }
  await waitFor(`${name} to be ready`, 45_000, async () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    return (await statusOf(`${instance.url}/ready`)) === 200
  })
  return instance
}

/** The breaker state an instance exports on /metrics. */
async function breakerState(instance: Instance): Promise<string> {
  const text = await fetch(`${instance.url}/metrics`).then((res) => res.text())
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('circuit_breaker_state{') &&
        l.includes('breaker="payments"') &&
        l.endsWith(' 1'),
    )
  return (line === undefined ? undefined : /state="(\w+)"/.exec(line)?.[1]) ?? 'unknown'
}

/** The checks an instance's /health reports failing, or what else keeps it from answering. */
interface HealthReport {
  status: string
  checks: Record<string, { status: string; critical: boolean }>
}

async function failingChecks(instance: Instance): Promise<string> {
  try {
    const report = (await fetch(`${instance.url}/health`).then((res) => res.json())) as HealthReport
    const failing = Object.entries(report.checks)
      .filter(([, check]) => check.status === 'fail')
      .map(([name, check]) => `${name}${check.critical ? '' : ' (non-critical)'}`)
    return failing.length === 0 ? 'shutting down' : `failing: ${failing.join(', ')}`
  } catch {
    return 'not answering'
  }
}

/** A phase's line: only answered requests, so it adds up and matches the summary's row. */
function describe(stats: PhaseStats): string {
  const answered = Object.values(stats.statuses).reduce((sum, n) => sum + n, 0)
  const statuses = Object.entries(stats.statuses)
    .map(([status, n]) => `${status}×${n}`)
    .join(' ')
  const servedBy = Object.entries(stats.servedBy)
    .map(([name, n]) => `${name}: ${n}`)
    .join(', ')
  return `${answered} requests, ${stats.failed} lost or unexpected (${statuses}); served by ${servedBy}`
}

const upstream = createPaymentsUpstream()
const paymentsUrl = await upstream.listen(0, '127.0.0.1')
const setFaults = (faults: Partial<Faults>): Promise<unknown> =>
  fetch(`${paymentsUrl}/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  }).then((res) => res.json())

say(`uptimekit tour: two ${framework} instances, a payment upstream at ${paymentsUrl}`)
const instances = await Promise.all([
  startInstance('instance-a', paymentsUrl),
  startInstance('instance-b', paymentsUrl),
])
note(`instance-a at ${instances[0].url}, instance-b at ${instances[1].url}`)

// The balancer: @uptimekit/balancer, round robin over the instances whose /ready answers 200 to
// its active checks, the way endpoints follow readiness in Kubernetes. The payments route's 502
// and 503 are answers of a healthy instance, so they must not count against it: passive health
// and outlier ejection are off, readiness alone decides.
const byUrl = (url: string): Instance | undefined =>
  instances.find((instance) => instance.url === url)
const balancer = createBalancer({
  upstreams: instances.map((instance) => instance.url),
  strategy: 'round-robin',
  passive: false,
  outlier: false,
  active: { path: '/ready', intervalMs: READY_POLL_MS, timeoutMs: 200, fails: 1, passes: 1 },
  logger: false,
})
balancer.onStateChange(({ url, to }) => {
  const instance = byUrl(url)
  if (instance === undefined) return
  if (to === 'down') {
    void failingChecks(instance).then((why) =>
      note(`balancer: ${instance.name} /ready failed (${why}): out of rotation`),
    )
  } else note(`balancer: ${instance.name} is ready: in rotation`)
})

const load = startLoad({
  baseUrl: 'http://example-service',
  dispatcher: balancer,
  concurrency: 4,
  pauseMs: 10,
  phase: 'steady',
  next: (n) =>
    n % 5 === 4
      ? {
          method: 'POST',
          path: '/api/payments',
          body: { amount: 1250, currency: 'EUR' },
          // 502 (upstream failed) and 503 (breaker open) are answers, not losses.
          expect: [201, 502, 503],
        }
      : { method: 'GET', path: `/api/users/${1 + (n % 3)}`, expect: [200] },
})
// A step's numbers are read once the next phase has begun and the step's last requests have
// their answers, so the line printed live is the row the summary shows.
const IN_FLIGHT_SETTLE_MS = 300
const ended = async (name: string, next: string): Promise<PhaseStats> => {
  load.phase(next)
  await sleep(IN_FLIGHT_SETTLE_MS)
  return load.stats().find((s) => s.phase === name)!
}

let exitCode = 0
try {
  step(1, 'Steady load: 4 workers, 4 GET /api/users/:id to 1 POST /api/payments')
  await sleep(3000)
  note(describe(await ended('steady', 'upstream failing')))

  step(2, 'The payment upstream starts failing every charge')
  note(`PUT ${paymentsUrl}/faults ${JSON.stringify(await setFaults({ failureRate: 1 }))}`)
  await waitFor('both breakers to open', 15_000, async () =>
    (await Promise.all(instances.map(breakerState))).every((state) => state === 'open'),
  )
  await sleep(500)
  note(describe(await ended('upstream failing', 'recovering')))
  note(
    '502: the upstream failed and the breaker counted it; 503 + Retry-After: the breaker is open',
  )
  note('and answers at once, without calling the upstream')
  const first = instances[0]
  const health = (await fetch(`${first.url}/health`).then((res) => res.json())) as HealthReport
  note(`GET /health: ${health.status}, ${await failingChecks(first)}`)
  note(
    `GET /ready: ${await statusOf(`${first.url}/ready`)} (a payments outage does not take instances out of rotation)`,
  )

  step(3, 'The upstream recovers; the breakers half-open, try one call, and close')
  note(`PUT ${paymentsUrl}/faults ${JSON.stringify(await setFaults({ failureRate: 0 }))}`)
  const recoveringSince = Date.now()
  await waitFor('both breakers to close', 30_000, async () =>
    (await Promise.all(instances.map(breakerState))).every((state) => state === 'closed'),
  )
  note(
    `both breakers closed ${((Date.now() - recoveringSince) / 1000).toFixed(1)} s later (resetTimeoutMs ${TIMINGS.breakerResetMs})`,
  )
  note(describe(await ended('recovering', 'recovered')))
  await sleep(1500)
  note(describe(await ended('recovered', 'SIGTERM')))

  step(4, `SIGTERM to instance-a under load (drain ${TIMINGS.drainDelayMs} ms), then a replacement`)
  const a = instances[0]
  a.child.kill('SIGTERM')
  const { code } = await a.exited
  note(`instance-a exited with code ${code}`)
  const replacement = await startInstance('instance-a2', paymentsUrl)
  instances[0] = replacement
  balancer.setUpstreams(instances.map((instance) => instance.url))
  note(`instance-a2 ready at ${replacement.url}`)
  await sleep(1500)
  const sigterm = await ended('SIGTERM', 'after the replacement')
  note(describe(sigterm))
  if (sigterm.failed > 0 || code !== 0) {
    exitCode = 1
    note(paint(31, `lost requests: ${sigterm.failures.join('; ')}`))
  } else
    note(`${paint(32, 'zero lost requests')} across the SIGTERM, the drain and the replacement`)

  step(5, 'Summary')
  const stats = await load.stop()
  say('   | phase | requests | lost or unexpected | statuses |')
  say('   | --- | ---: | ---: | --- |')
  for (const s of stats) {
    const statuses = Object.entries(s.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ')
    const answered = Object.values(s.statuses).reduce((sum, n) => sum + n, 0)
    say(`   | ${s.phase} | ${answered} | ${s.failed} | ${statuses} |`)
  }
  if (stats.some((s) => s.failed > 0)) exitCode = 1
} catch (error) {
  note(paint(31, `the tour stopped: ${(error as Error).message}`))
  exitCode = 1
} finally {
  showLogs = false
  await load.stop()
  await balancer.close()
  for (const instance of instances) instance.child.kill('SIGTERM')
  await Promise.all(instances.map((instance) => instance.exited))
  await upstream.close()
}
process.exit(exitCode)
