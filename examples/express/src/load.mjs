// A steady, bounded HTTP load for the tour and the end-to-end tests: a few
// workers, each sending one request after another on keep-alive connections,
// counting every answer by phase so a step ("rolling restart", "SIGKILL")
// can be read off afterwards.
import { Agent, request } from 'node:http'

/**
 * @typedef {{ method: string, path: string, headers?: Record<string, string>, body?: unknown, expect: number[] }} LoadRequest
 * @typedef {{ phase: string, sent: number, ok: number, failed: number, statuses: Record<string, number>,
 *             servedBy: Record<string, number>, failures: string[] }} PhaseStats
 */

/** One HTTP request; resolves with the answer or the network error, never rejects. */
export function send(agent, baseUrl, { method, path, headers = {}, body }, timeoutMs) {
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
    req.on('error', (error) => resolve({ error: error.code ?? error.message }))
    req.on('response', (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('error', (error) => resolve({ error: error.code ?? error.message }))
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.end(payload)
  })
}

/**
 * Starts `concurrency` workers against `baseUrl` (a URL, or a function
 * picking one per request, as a client-side balancer does); `next(n)` gives
 * the n-th request. Each answer is counted in the phase that was current when the
 * request was sent. Call `stop()` to end it: it resolves once every worker has
 * its last answer, with the stats of every phase.
 *
 * @param {{ baseUrl: string | (() => string), concurrency?: number, pauseMs?: number, timeoutMs?: number,
 *           phase?: string, next: (n: number) => LoadRequest }} options
 *   `phase` names the first phase (default 'start')
 */
export function startLoad({
  baseUrl,
  concurrency = 8,
  pauseMs = 0,
  timeoutMs = 10_000,
  phase = 'start',
  next,
}) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const phases = new Map()
  let current
  let counter = 0
  let stopping = false

  const setPhase = (name) => {
    if (!phases.has(name)) {
      phases.set(name, {
        phase: name,
        sent: 0,
        ok: 0,
        failed: 0,
        statuses: {},
        servedBy: {},
        failures: [],
      })
    }
    current = phases.get(name)
  }
  setPhase(phase)

  const worker = async () => {
    while (!stopping) {
      const spec = next(counter++)
      const stats = current
      stats.sent++
      const target = typeof baseUrl === 'function' ? baseUrl() : baseUrl
      const answer = await send(agent, target, spec, timeoutMs)
      const key = answer.error ?? String(answer.status)
      stats.statuses[key] = (stats.statuses[key] ?? 0) + 1
      const instance = answer.headers?.['x-served-by']
      if (instance !== undefined) stats.servedBy[instance] = (stats.servedBy[instance] ?? 0) + 1
      if (answer.error === undefined && spec.expect.includes(answer.status)) stats.ok++
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
    /** Counts the requests sent from now on under `name`. */
    phase: setPhase,
    /** The stats so far, by phase, in the order the phases began. */
    stats: () => [...phases.values()].map((stats) => structuredClone(stats)),
    /** Waits for every worker's last answer and closes the connections. */
    async stop() {
      stopping = true
      await Promise.all(workers)
      agent.destroy()
      return [...phases.values()]
    },
  }
}

/** Sums a list of phase stats. */
export function total(stats) {
  return stats.reduce(
    (sum, s) => ({ sent: sum.sent + s.sent, ok: sum.ok + s.ok, failed: sum.failed + s.failed }),
    { sent: 0, ok: 0, failed: 0 },
  )
}
