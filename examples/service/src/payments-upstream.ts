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
// Run alone: `PORT=4000 npx tsx examples/service/src/payments-upstream.ts`.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'

const MAX_LATENCY_MS = 60_000
const MAX_BODY_BYTES = 16_384

/** The faults the upstream injects: a share of failed charges and a delay before every answer. */
export interface Faults {
  /** Share of charges answered 503, 0..1. */
  failureRate: number
  /** Delay before each answer, in milliseconds. */
  latencyMs: number
}

/** A running (or not yet listening) payment upstream. */
export interface PaymentsUpstream {
  readonly server: Server
  /** The faults now in force (a live object: read it, change it through `setFaults`). */
  readonly faults: Readonly<Faults>
  /** Changes the failure rate (0..1) and/or latency (ms); throws RangeError on bad values. */
  setFaults(next: Partial<Faults>): Faults
  /** Listens and resolves with the base URL, e.g. `http://127.0.0.1:4000`. */
  listen(port?: number, host?: string): Promise<string>
  /** Stops listening, drops pending delayed answers and closes every connection. */
  close(): Promise<void>
}

interface ChargeBody {
  amount?: unknown
  currency?: unknown
}

/** Creates the upstream, not yet listening. */
export function createPaymentsUpstream(initial: Partial<Faults> = {}): PaymentsUpstream {
  const faults: Faults = { failureRate: 0, latencyMs: 0 }
  const problem = applyFaults(faults, initial)
  if (problem !== undefined) throw new RangeError(problem)
  const timers = new Set<NodeJS.Timeout>()
  let charges = 0

  const later = (fn: () => void): void => {
    if (faults.latencyMs === 0) return fn()
    const timer = setTimeout(() => {
      timers.delete(timer)
      fn()
    }, faults.latencyMs)
    timers.add(timer)
  }

  const server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const path = new URL(req.url ?? '/', 'http://upstream').pathname
    readJson(req).then(
      (parsed) => {
        const body = parsed as ChargeBody | undefined
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
          const error = applyFaults(faults, (body ?? {}) as Record<string, unknown>)
          return error === undefined ? send(200, { ...faults }) : send(400, { error })
        }
        send(404, { error: `no route ${req.method} ${path}` })
      },
      (error: Error) => send(400, { error: error.message }),
    )
  })

  return {
    server,
    faults,
    setFaults(next) {
      const error = applyFaults(faults, next)
      if (error !== undefined) throw new RangeError(error)
      return { ...faults }
    },
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve(`http://${host}:${(server.address() as AddressInfo).port}`)
        })
      })
    },
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

function applyFaults(faults: Faults, next: Record<string, unknown>): string | undefined {
  const { failureRate, latencyMs } = next
  if (failureRate !== undefined) {
    if (typeof failureRate !== 'number' || !(failureRate >= 0 && failureRate <= 1)) {
      return `failureRate must be a number from 0 to 1 (got ${JSON.stringify(failureRate)})`
    }
  }
  if (latencyMs !== undefined) {
    if (
      typeof latencyMs !== 'number' ||
      !Number.isInteger(latencyMs) ||
      latencyMs < 0 ||
      latencyMs > MAX_LATENCY_MS
    ) {
      return `latencyMs must be an integer from 0 to ${MAX_LATENCY_MS} (got ${JSON.stringify(latencyMs)})`
    }
  }
  if (failureRate !== undefined) faults.failureRate = failureRate
  if (latencyMs !== undefined) faults.latencyMs = latencyMs
  return undefined
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
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
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown)
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
