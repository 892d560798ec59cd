// SIGTERM under keep-alive load, side by side: each contender serves 50 ms requests to 100
// keep-alive connections sending back to back; 1 s into the load it gets a SIGTERM. Counted on
// the client: requests lost on established connections, non-2xx answers, new connections
// refused (or reset by the kernel) once the listener closed, and the time from SIGTERM to exit.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { churnTrial } from './shutdown-fixtures/churn.mjs'

const CONNECTIONS = 100
const LOAD_BEFORE_SIGNAL_MS = 1000
const DRAIN_DELAY_MS = 1000
// A client that is never turned away stops here (plain server.close() never closes busy keep-alive connections).
const CLIENT_GIVES_UP_MS = 6000
const TRIALS = 3

const contenders = [
  ['plain server.close() (baseline)', 'plain'],
  ['http-terminator', 'http-terminator'],
  ['stoppable', 'stoppable'],
  ['@godaddy/terminus (beforeShutdown delay)', 'terminus'],
  ["Fastify's default close()", 'fastify-close'],
  ['@uptimekit/shutdown, node:http', 'uptimekit-http'],
  ['@uptimekit/shutdown, Express', 'uptimekit-express'],
  ['@uptimekit/shutdown, Fastify', 'uptimekit-fastify'],
]

const fixture = new URL('./shutdown-fixtures/server.mjs', import.meta.url)
// A bench that fails half-way still leaves no server running.
const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function get(port, agent) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
      res.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })))
    })
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })))
    req.end()
  })
}

async function trial(contender) {
  const child = spawn(process.execPath, [fixture.pathname, contender, String(DRAIN_DELAY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  running.add(child)
  const exited = new Promise((resolve) =>
    child.once('exit', () => {
      running.delete(child)
      resolve(performance.now())
    }),
  )
  const port = await new Promise((resolve, reject) => {
    void exited.then(() => reject(new Error(`${contender} fixture exited before listening`)))
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).port)
    })
  })
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const counts = { ok: 0, afterSignal: 0, non2xx: 0, lost: 0, refused: 0 }
  let signalledAt = Infinity
  let stop = false
  const loop = async () => {
    while (!stop) {
      try {
        const status = await get(port, agent)
        if (status >= 200 && status < 300) counts.ok += 1
        else counts.non2xx += 1
        if (performance.now() > signalledAt) counts.afterSignal += 1
      } catch (err) {
        if (err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && !err.reused)) {
          counts.refused += 1
          return
        }
        // A request written on an established keep-alive connection and never answered.
        counts.lost += 1
      }
    }
  }
  const loops = Array.from({ length: CONNECTIONS }, loop)
  await sleep(LOAD_BEFORE_SIGNAL_MS)
  signalledAt = performance.now()
  child.kill('SIGTERM')
  const giveUp = sleep(CLIENT_GIVES_UP_MS).then(() => 'gave up')
  const clientDone = Promise.all(loops).then(() => 'done')
  const clientEnd = await Promise.race([clientDone, giveUp])
  // Giving up: send no new request, let those in flight finish, then drop the connections.
  stop = true
  await Promise.race([Promise.all(loops), sleep(2000)])
  agent.destroy()
  const exit = await Promise.race([exited, sleep(5000).then(() => undefined)])
  if (exit === undefined) child.kill('SIGKILL')
  await Promise.all(loops)
  return {
    ...counts,
    exitMs: exit === undefined ? undefined : exit - signalledAt,
    clientGaveUp: clientEnd === 'gave up',
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const rows = []
for (const [label, contender] of contenders) {
  const trials = []
  for (let i = 0; i < TRIALS; i++) trials.push(await trial(contender))
  const sum = (key) => trials.reduce((total, t) => total + t[key], 0)
  const exits = trials.map((t) => t.exitMs).filter((ms) => ms !== undefined)
  rows.push({
    label,
    lost: sum('lost'),
    non2xx: sum('non2xx'),
    refused: sum('refused'),
    afterSignal: sum('afterSignal') - sum('non2xx'),
    exitMs: exits.length === trials.length ? median(exits) : undefined,
    gaveUp: trials.filter((t) => t.clientGaveUp).length,
  })
}

const baseline = rows[0]
const ratio = (value, base) =>
  value === undefined || base === undefined || base === 0 ? '' : ` (${(value / base).toFixed(2)}×)`
const lines = [
  `| SIGTERM under keep-alive load (${TRIALS} trials, totals) | requests lost on established connections | non-2xx answers | new connections refused after the listener closed | 2xx answers after SIGTERM | SIGTERM → exit, median ms |`,
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((row) => {
    const exit =
      row.exitMs === undefined
        ? 'did not exit (killed)'
        : `${Math.round(row.exitMs)}${ratio(row.exitMs, baseline.exitMs)}`
    const note = row.gaveUp > 0 ? ` ¹` : ''
    return `| ${row.label} | ${row.lost} | ${row.non2xx} | ${row.refused}${note} | ${row.afterSignal} | ${exit} |`
  }),
]
const version = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    .version
process.stdout.write(`${lines.join('\n')}\n\n`)
if (rows.some((row) => row.gaveUp > 0)) {
  process.stdout.write(
    `¹ never turned the client away: it kept its busy keep-alive connections open until the client gave up ${CLIENT_GIVES_UP_MS / 1000} s after the SIGTERM; the exit time is measured from the SIGTERM anyway.\n\n`,
  )
}
process.stdout.write(
  `${CONNECTIONS} keep-alive connections, 50 ms requests back to back, SIGTERM after ${LOAD_BEFORE_SIGNAL_MS} ms, drain delay ${DRAIN_DELAY_MS} ms (ours and terminus' beforeShutdown). ` +
    `Node ${process.version}; express ${version('express')}, fastify ${version('fastify')}, http-terminator ${version('http-terminator')}, stoppable ${version('stoppable')}, @godaddy/terminus ${version('@godaddy/terminus')}.\n`,
)

// The churn model, every contender in the same run: 50 keep-alive clients that honour
// `Connection: close` and reconnect at once, drain delay 500 ms, SIGTERM 300 ms into the load.
const churnRows = []
for (const [label, contender] of contenders) {
  const trials = []
  for (let i = 0; i < TRIALS; i++) trials.push(await churnTrial(contender, { drainDelayMs: 500 }))
  const sum = (key) => trials.reduce((total, t) => total + t[key], 0)
  churnRows.push({
    label,
    lost: sum('lost'),
    failedTrials: trials.filter((t) => t.lost > 0).length,
    ok: sum('ok'),
    refused: sum('refused'),
    gaveUp: trials.filter((t) => t.gaveUp).length,
  })
}
process.stdout.write(
  [
    '',
    `| SIGTERM under churn (${TRIALS} trials, totals) | lost requests (reset, EPIPE, hang up, non-2xx; any connection) | trials with a loss | 2xx answers | refused after the listener closed |`,
    '|---|---:|---:|---:|---:|',
    ...churnRows.map(
      (row) =>
        `| ${row.label} | ${row.lost} | ${row.failedTrials} | ${row.ok} | ${row.refused}${row.gaveUp > 0 ? ' ¹' : ''} |`,
    ),
    '',
    `50 keep-alive clients (node:http Agent) reconnecting at once after \`Connection: close\`, 50 ms handler, drain delay 500 ms (ours and terminus' beforeShutdown), SIGTERM 300 ms into the load. lightship 9.0.4 is not in this run: it needs Node 22 or newer.`,
    '',
  ].join('\n'),
)
