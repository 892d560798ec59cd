// The churn model: `clients` keep-alive clients (node:http Agent, which honours
// `Connection: close` and reconnects at once) send requests back to back to a contender running
// in its own process; `loadMs` in, the process gets a real SIGTERM. Every request ends one way:
// a 2xx answer, a lost request (ECONNRESET, EPIPE, socket hang up, any other error, or a non-2xx
// answer, on a fresh or a reused connection), or ECONNREFUSED on a new connection once the
// listener has closed, which ends that client (in a cluster it goes to another pod).
import { spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

const fixture = new URL('./server.mjs', import.meta.url)
const running = new Set()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function get(port, agent, onSocket) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
      res.resume()
      res.on('end', () =>
        resolve({ status: res.statusCode, close: res.headers.connection === 'close' }),
      )
      res.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })))
    })
    req.on('socket', onSocket)
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })))
    req.end()
  })
}

/** Starts a process spinning on one core for the length of `fn`. */
export async function withBusyCore(fn) {
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
  running.add(busy)
  try {
    return await fn()
  } finally {
    busy.kill('SIGKILL')
    running.delete(busy)
  }
}

/**
 * One SIGTERM trial of `contender` (see server.mjs) under churn. Resolves with counts, the first
 * few lost requests as `code reused|fresh +ms after the SIGTERM`, and how the clients moved:
 * `closeAnswers` (answers after the SIGTERM that said `Connection: close`), `movedMs` (from the
 * SIGTERM until every connection open at the SIGTERM was closed, undefined if one never was) and
 * `refusedFromMs` (the first ECONNREFUSED, about when the listener closed).
 */
export async function churnTrial(
  contender,
  { clients = 50, drainDelayMs = 500, loadMs = 300, giveUpMs = 6000 } = {},
) {
  const child = spawn(process.execPath, [fixture.pathname, contender, String(drainDelayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  running.add(child)
  const exited = new Promise((resolve) =>
    child.once('exit', (code) => {
      running.delete(child)
      resolve({ at: performance.now(), code })
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
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  const counts = { ok: 0, lost: 0, refused: 0, closeAnswers: 0, examples: [] }
  let stop = false
  let signalledAt = Infinity
  let refusedAt = Infinity
  // The client's open connections; those open at the SIGTERM are the ones a drain must move.
  const open = new Set()
  const onSocket = (socket) => {
    if (open.has(socket) || socket.destroyed) return
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  }
  const loop = async () => {
    while (!stop) {
      try {
        const { status, close } = await get(port, agent, onSocket)
        if (close && performance.now() > signalledAt) counts.closeAnswers += 1
        if (status >= 200 && status < 300) counts.ok += 1
        else {
          counts.lost += 1
          if (counts.examples.length < 5) counts.examples.push(`status ${status}`)
        }
      } catch (err) {
        if (err.code === 'ECONNREFUSED') {
          counts.refused += 1
          refusedAt = Math.min(refusedAt, performance.now())
          return
        }
        counts.lost += 1
        if (counts.examples.length < 5) {
          counts.examples.push(
            `${err.code ?? err.message} ${err.reused ? 'reused' : 'fresh'} +${Math.round(performance.now() - signalledAt)}ms`,
          )
        }
      }
    }
  }
  const loops = Array.from({ length: clients }, loop)
  await sleep(loadMs)
  signalledAt = performance.now()
  child.kill('SIGTERM')
  const moved = Promise.all(
    [...open].map((socket) => new Promise((resolve) => socket.once('close', resolve))),
  ).then(() => performance.now() - signalledAt)
  const gaveUp = await Promise.race([
    Promise.all(loops).then(() => false),
    sleep(giveUpMs).then(() => true),
  ])
  stop = true
  await Promise.race([Promise.all(loops), sleep(2000)])
  agent.destroy()
  const exit = await Promise.race([exited, sleep(5000).then(() => undefined)])
  if (exit === undefined) child.kill('SIGKILL')
  await Promise.all(loops)
  // Closed by then, one way or the other (agent.destroy() at the latest).
  const movedMs = gaveUp ? undefined : await moved
  return {
    ...counts,
    movedMs,
    refusedFromMs: refusedAt - signalledAt,
    gaveUp,
    exitCode: exit?.code,
    exitMs: exit === undefined ? undefined : exit.at - signalledAt,
  }
}
