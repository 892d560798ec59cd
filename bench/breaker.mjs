// Circuit breakers side by side: a direct async call, @uptimekit/breaker (defaults, so a 10 s call
// timeout, and with the timeout off), cockatiel (consecutive breaker, which has no call timeout)
// and opossum (default options: a 10 s timeout). Run from the repo root: `node bench/breaker.mjs`.
//
// 1. Success path: 1e6 calls each through execute()/fire(), as 5 interleaved rounds of 200,000
//    so the noise of a shared machine hits every library alike; the median round is reported.
// 2. Failure path: 40,000 calls, every 4th failing, thresholds set so no breaker ever opens.
// 3. 10,000 idle breakers: heap per breaker, time to create them, timers they keep running.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

// Heap figures need a forced GC: re-run this file under --expose-gc when it is missing.
if (typeof globalThis.gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
  })
  process.exit(child.status ?? 1)
}

const { CircuitBreaker } = await import('@uptimekit/breaker')
const { circuitBreaker, handleAll, ConsecutiveBreaker } = await import('cockatiel')
const { default: Opossum } = await import('opossum')

const require = createRequire(import.meta.url)
const versionOf = (name) => require(`${name}/package.json`).version

const SUCCESS_CALLS = 1_000_000
const ROUNDS = 5
const FAILURE_CALLS = 40_000
const FAILURE_BUDGET_MS = 30_000
const BREAKERS = 10_000

const gc = () => {
  globalThis.gc()
  globalThis.gc()
}
const heapUsed = () => process.memoryUsage().heapUsed
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const succeed = async () => 1
const boom = new Error('down')
let calls = 0
const sometimesFail = async () => {
  if (++calls % 4 === 0) throw boom
  return 1
}

/** How each contender makes one call, built fresh for each scenario. */
const contenders = {
  direct: {
    label: 'direct call',
    make: (fn) => fn,
  },
  ours: {
    label: '@uptimekit/breaker',
    // Defaults: a 10 s call timeout, so one timer and one AbortController per call.
    make: (fn, keepClosed) => {
      const b = new CircuitBreaker({
        name: 'bench',
        failureThreshold: keepClosed ? Infinity : 5,
        logger: false,
      })
      return () => b.execute(fn)
    },
    create: () => new CircuitBreaker({ name: 'bench' }),
  },
  oursNoTimeout: {
    label: '@uptimekit/breaker, `callTimeoutMs: Infinity`',
    make: (fn, keepClosed) => {
      const b = new CircuitBreaker({
        name: 'bench',
        failureThreshold: keepClosed ? Infinity : 5,
        callTimeoutMs: Infinity,
        logger: false,
      })
      return () => b.execute(fn)
    },
    create: () => new CircuitBreaker({ name: 'bench', callTimeoutMs: Infinity }),
  },
  cockatiel: {
    label: `cockatiel ${versionOf('cockatiel')}`,
    make: (fn, keepClosed) => {
      const p = circuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new ConsecutiveBreaker(keepClosed ? Number.MAX_SAFE_INTEGER : 5),
      })
      return () => p.execute(fn)
    },
    create: () =>
      circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  },
  opossum: {
    label: `opossum ${versionOf('opossum')}`,
    make: (fn, keepClosed) => {
      // Defaults, except what keeps it closed at a 25 % failure rate.
      const b = new Opossum(fn, keepClosed ? { volumeThreshold: Number.MAX_SAFE_INTEGER } : {})
      made.push(b)
      return () => b.fire()
    },
    create: () => new Opossum(succeed),
    dispose: (b) => b.shutdown(),
  },
}
const made = []
const names = Object.keys(contenders)

async function timeCalls(call, n, budgetMs = Infinity) {
  const start = process.hrtime.bigint()
  const deadline = performance.now() + budgetMs
  let done = 0
  for (; done < n; done++) {
    try {
      await call()
    } catch {
      // The failure path expects these.
    }
    if ((done & 1023) === 0 && performance.now() > deadline) break
  }
  return { ns: Number(process.hrtime.bigint() - start), done }
}

/** Counts the timers started (setTimeout/setInterval, unref()ed ones included) until stop(). */
function countTimers() {
  const { setTimeout: st, setInterval: si } = globalThis
  let started = 0
  globalThis.setTimeout = (...args) => (started++, st(...args))
  globalThis.setInterval = (...args) => (started++, si(...args))
  return () => {
    globalThis.setTimeout = st
    globalThis.setInterval = si
    return started
  }
}

// 1. Success path.
const success = Object.fromEntries(names.map((name) => [name, []]))
const callers = Object.fromEntries(names.map((name) => [name, contenders[name].make(succeed)]))
for (const name of names) await timeCalls(callers[name], 50_000)
for (let round = 0; round < ROUNDS; round++) {
  for (const name of names) {
    const { ns } = await timeCalls(callers[name], SUCCESS_CALLS / ROUNDS)
    success[name].push(ns / (SUCCESS_CALLS / ROUNDS))
  }
}
// Heap the breaker still holds after its 1e6 calls: heap with it minus heap once it is dropped.
const heldKB = {}
for (const name of names) {
  gc()
  const withIt = heapUsed()
  callers[name] = null
  for (const b of made.splice(0)) b.shutdown()
  gc()
  heldKB[name] = (withIt - heapUsed()) / 1024
}
// Timers started per call (opossum arms a timeout per call by default).
const timersPerCall = {}
for (const name of names) {
  const call = contenders[name].make(succeed)
  const stop = countTimers()
  for (let i = 0; i < 1_000; i++) await call()
  timersPerCall[name] = stop() / 1_000
}
for (const b of made.splice(0)) b.shutdown()

// 2. Failure path.
const failure = {}
for (const name of names) {
  calls = 0
  const call = contenders[name].make(sometimesFail, true)
  gc()
  const { ns, done } = await timeCalls(call, FAILURE_CALLS, FAILURE_BUDGET_MS)
  failure[name] = { ms: ns / 1e6, done }
}
for (const b of made.splice(0)) b.shutdown()

// 3. 10,000 idle breakers.
const many = {}
for (const name of names.filter((n) => contenders[n].create)) {
  const { create, dispose } = contenders[name]
  const warm = Array.from({ length: 100 }, create)
  if (dispose) warm.forEach(dispose)
  gc()
  const before = heapUsed()
  const start = process.hrtime.bigint()
  const stop = countTimers()
  const kept = Array.from({ length: BREAKERS }, create)
  const started = stop()
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  gc()
  many[name] = { bytes: (heapUsed() - before) / BREAKERS, ms, timers: started }
  if (dispose) kept.forEach(dispose)
}

// The table: numbers, with the ratio to @uptimekit/breaker in parentheses.
const num = (v, digits = 0) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ratio = (v, base) => (base > 0 ? ` (${(v / base).toFixed(2)}×)` : '')
const nsPerCall = Object.fromEntries(names.map((n) => [n, median(success[n])]))
const rows = [
  [
    'success path, ns/call (median of 5 × 200,000)',
    (n) => num(nsPerCall[n]) + ratio(nsPerCall[n], nsPerCall.ours),
  ],
  ['success path, ops/s', (n) => num(1e9 / nsPerCall[n])],
  ['heap retained after the success path, KB', (n) => num(heldKB[n], 1)],
  ['timers started per call', (n) => num(timersPerCall[n], 2)],
  [
    `failure path: ${num(FAILURE_CALLS)} calls, 25 % failing, ms`,
    (n) => {
      const f = failure[n]
      const shown = num(f.ms) + ratio(f.ms, failure.ours.ms)
      return f.done < FAILURE_CALLS ? `> ${num(f.ms)} (stopped after ${num(f.done)} calls)` : shown
    },
  ],
  [
    `${num(BREAKERS)} idle breakers: heap per breaker, bytes`,
    (n) => (many[n] ? num(many[n].bytes) + ratio(many[n].bytes, many.ours.bytes) : '–'),
  ],
  [
    `${num(BREAKERS)} idle breakers: time to create, ms`,
    (n) => (many[n] ? num(many[n].ms, 1) : '–'),
  ],
  [`${num(BREAKERS)} idle breakers: timers started`, (n) => (many[n] ? num(many[n].timers) : '–')],
]
const lines = [
  `| | ${names.map((n) => contenders[n].label).join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
  ...rows.map(([label, cell]) => `| ${label} | ${names.map(cell).join(' | ')} |`),
]
console.log(lines.join('\n'))
console.log(
  `\nNode ${process.version}, cockatiel ${versionOf('cockatiel')}, opossum ${versionOf('opossum')}; ` +
    `(×) = ratio to @uptimekit/breaker, lower is better.`,
)
