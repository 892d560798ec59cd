// A steady, bounded HTTP load for the tour and the end-to-end tests: a few
// workers, each sending one request after another on keep-alive connections,
// counting every answer by phase so a step ("rolling restart", "SIGKILL")
// can be read off afterwards.
import { Agent, type IncomingHttpHeaders, request } from 'node:http'
import { type Dispatcher, request as undiciRequest } from 'undici'

/** One request the load sends, and the statuses that count as success. */
export interface LoadRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: unknown
  expect: number[]
}

/** What the load counted while one phase was current. */
export interface PhaseStats {
  phase: string
  sent: number
  ok: number
  failed: number
  statuses: Record<string, number>
  servedBy: Record<string, number>
  failures: string[]
}

/** An answer, or the network error that took its place. */
export type SendResult =
  | { error: string; status?: undefined; headers?: undefined; text?: undefined }
  | { error?: undefined; status: number; headers: IncomingHttpHeaders; text: string }

/** A running load. */
export interface Load {
  /** Counts the requests sent from now on under `name`. */
  phase(name: string): void
  /** The stats so far, by phase, in the order the phases began. */
  stats(): PhaseStats[]
  /** Waits for every worker's last answer and closes the connections. */
  stop(): Promise<PhaseStats[]>
}

const failureCode = (error: Error & { code?: string }): string => error.code ?? error.message

/** One HTTP request; resolves with the answer or the network error, never rejects. */
export function send(
  agent: Agent,
  baseUrl: string,
  { method, path, headers = {}, body }: LoadRequest,
  timeoutMs: number,
): Promise<SendResult> {
  const url = new URL(path, baseUrl)
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve) => {
    const req = request(url, {
      agent,
      method,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      timeout: timeoutMs,
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (error) => resolve({ error: failureCode(error) }))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', (error) => resolve({ error: failureCode(error) }))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.end(payload)
  })
}

/** The same request through an undici dispatcher (a client-side balancer) instead of an agent. */
async function sendThrough(
  dispatcher: Dispatcher,
  baseUrl: string,
  { method, path, headers = {}, body }: LoadRequest,
  timeoutMs: number,
): Promise<SendResult> {
  const payload = body === undefined ? undefined : JSON.stringify(body)
  try {
    const res = await undiciRequest(new URL(path, baseUrl), {
      dispatcher,
      method: method,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
    })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  } catch (error) {
    return { error: failureCode(error as Error & { code?: string }) }
  }
}

/** Options of `startLoad`. */
export interface LoadOptions {
  /**
   * A URL, or a function picking one per request. With `dispatcher`, the URL only names the
   * service and the dispatcher picks the instance.
   */
  baseUrl: string | (() => string)
  /** Send through this undici dispatcher (e.g. an `@uptimekit/balancer`) instead of node:http. */
  dispatcher?: Dispatcher
  /** @default 8 */
  concurrency?: number
  /** Pause between one worker's requests. @default 0 */
  pauseMs?: number
  /** @default 10000 */
  timeoutMs?: number
  /** The first phase's name. @default 'start' */
  phase?: string
  /** The n-th request to send. */
  next: (n: number) => LoadRequest
}

/**
 * Starts `concurrency` workers against `baseUrl`; `next(n)` gives the n-th request. Each answer
 * is counted in the phase that was current when the request was sent. Call `stop()` to end it:
 * it resolves once every worker has its last answer, with the stats of every phase.
 */
export function startLoad({
  baseUrl,
  concurrency = 8,
  pauseMs = 0,
  timeoutMs = 10_000,
  phase = 'start',
  next,
  dispatcher,
}: LoadOptions): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const phases = new Map<string, PhaseStats>()
  const fresh = (name: string): PhaseStats => ({
    phase: name,
    sent: 0,
    ok: 0,
    failed: 0,
    statuses: {},
    servedBy: {},
    failures: [],
  })
  let current = fresh(phase)
  phases.set(phase, current)
  let counter = 0
  let stopping = false

  const setPhase = (name: string): void => {
    const known = phases.get(name) ?? fresh(name)
    phases.set(name, known)
    current = known
  }

  const worker = async (): Promise<void> => {
    while (!stopping) {
      const spec = next(counter++)
      const stats = current
      stats.sent++
      const target = typeof baseUrl === 'function' ? baseUrl() : baseUrl
      const answer =
        dispatcher === undefined
          ? await send(agent, target, spec, timeoutMs)
          : await sendThrough(dispatcher, target, spec, timeoutMs)
      const key = answer.error ?? String(answer.status)
      stats.statuses[key] = (stats.statuses[key] ?? 0) + 1
      const instance = answer.headers?.['x-served-by']
      if (typeof instance === 'string')
        stats.servedBy[instance] = (stats.servedBy[instance] ?? 0) + 1
      if (answer.status !== undefined && spec.expect.includes(answer.status)) stats.ok++
      else {
        stats.failed++
        if (stats.failures.length < 20) {
          stats.failures.push(`${spec.method} ${spec.path} -> ${key} ${answer.text ?? ''}`.trim())
        }
      }
      if (pauseMs > 0 && !stopping) await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
  const workers = Array.from({ length: concurrency }, worker)

  return {
    phase: setPhase,
    stats: () => [...phases.values()].map((stats) => structuredClone(stats)),
    async stop() {
      stopping = true
      await Promise.all(workers)
      agent.destroy()
      return [...phases.values()]
    },
  }
}

/** Sums a list of phase stats. */
export function total(stats: PhaseStats[]): { sent: number; ok: number; failed: number } {
  return stats.reduce(
    (sum, s) => ({ sent: sum.sent + s.sent, ok: sum.ok + s.ok, failed: sum.failed + s.failed }),
    { sent: 0, ok: 0, failed: 0 },
  )
}
