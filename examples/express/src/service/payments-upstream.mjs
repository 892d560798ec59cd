// A stand-in for a payment provider: a small HTTP service whose failure rate
// and latency can be changed while it runs, so the demo and the tests can make
// it fail and watch the circuit breaker open and recover.
//
//   POST /charge   {"amount": 1250, "currency": "EUR"} -> 201 {id, amount, currency, status}
//                  or, with probability failureRate, 503 {error}; after latencyMs either way
//   GET  /health   200 while failureRate < 0.5, else 503
//   GET  /faults   the current {failureRate, latencyMs}
//   PUT  /faults   {"failureRate": 0..1, "latencyMs": 0..60000} (either or both)
//
// Run alone: `PORT=4000 node examples/express/src/service/payments-upstream.mjs`.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'

const MAX_LATENCY_MS = 60_000
const MAX_BODY_BYTES = 16_384

/**
 * Creates the upstream, not yet listening.
 *
 * @param {{ failureRate?: number, latencyMs?: number }} [initial]
 */
export function createPaymentsUpstream(initial = {}) {
  const faults = { failureRate: 0, latencyMs: 0 }
  const problem = applyFaults(faults, initial)
  if (problem !== undefined) throw new RangeError(problem)
  const timers = new Set()
  let charges = 0

  const later = (fn) => {
    if (faults.latencyMs === 0) return fn()
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, faults.latencyMs)
    timers.add(timer)
  }

  const server = createServer((req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const path = new URL(req.url ?? '/', 'http://upstream').pathname
    readJson(req).then(
      (body) => {
        if (req.method === 'POST' && path === '/charge') {
          const failing = Math.random() < faults.failureRate
          later(() => {
            if (res.destroyed) return
            if (failing)
              return send(503, { error: 'payment provider unavailable (injected fault)' })
            charges++
            send(201, {
              id: randomUUID(),
              amount: body?.amount ?? null,
              currency: body?.currency ?? null,
              status: 'captured',
            })
          })
          return
        }
        if (req.method === 'GET' && path === '/health') {
          return send(faults.failureRate < 0.5 ? 200 : 503, { ...faults, charges })
        }
        if (path === '/faults' && req.method === 'GET') return send(200, { ...faults })
        if (path === '/faults' && req.method === 'PUT') {
          const error = applyFaults(faults, body ?? {})
          return error === undefined ? send(200, { ...faults }) : send(400, { error })
        }
        send(404, { error: `no route ${req.method} ${path}` })
      },
      (error) => send(400, { error: error.message }),
    )
  })

  return {
    server,
    /** The faults now in force (a live object: read it, change it through `setFaults`). */
    faults,
    /** Changes the failure rate (0..1) and/or latency (ms); throws RangeError on bad values. */
    setFaults(next) {
      const error = applyFaults(faults, next)
      if (error !== undefined) throw new RangeError(error)
      return { ...faults }
    },
    /** Listens and resolves with the base URL, e.g. `http://127.0.0.1:4000`. */
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve(`http://${host}:${server.address().port}`)
        })
      })
    },
    /** Stops listening, drops pending delayed answers and closes every connection. */
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      return new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function applyFaults(faults, next) {
  const { failureRate, latencyMs } = next
  if (failureRate !== undefined) {
    if (typeof failureRate !== 'number' || !(failureRate >= 0 && failureRate <= 1)) {
      return `failureRate must be a number from 0 to 1 (got ${JSON.stringify(failureRate)})`
    }
  }
  if (latencyMs !== undefined) {
    if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
      return `latencyMs must be an integer from 0 to ${MAX_LATENCY_MS} (got ${JSON.stringify(latencyMs)})`
    }
  }
  if (failureRate !== undefined) faults.failureRate = failureRate
  if (latencyMs !== undefined) faults.latencyMs = latencyMs
  return undefined
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('error', reject)
    req.on('end', () => {
      if (chunks.length === 0) return resolve(undefined)
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        reject(new Error('body is not valid JSON'))
      }
    })
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const upstream = createPaymentsUpstream()
  const url = await upstream.listen(
    Number(process.env.PORT ?? 4000),
    process.env.HOST ?? '127.0.0.1',
  )
  console.log(`payments upstream listening on ${url} (PUT ${url}/faults to make it fail)`)
  const stop = () => void upstream.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
