import { Agent, request } from 'node:http'

/** What the keep-alive load saw. */
export interface LoadResult {
  /** Answers with a 2xx status. */
  ok: number
  /** Answers with any other status, as `status id`. */
  non2xx: string[]
  /** Requests that failed on an established connection, or in any unexpected way, as `code id`. */
  lost: string[]
  /**
   * Ids of requests whose new connection was refused: ECONNREFUSED, or a reset of a connection
   * the kernel queued but the closed listener never accepted. Each ends one client loop.
   */
  refused: string[]
  /** The refused ids whose error was a reset (ECONNRESET on a fresh connection), not ECONNREFUSED. */
  resetFresh: string[]
}

/** An HTTP GET on `agent` resolving with the status and the `connection` header. */
export function get(
  port: number,
  path: string,
  agent: Agent | false,
): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
      )
      res.on('error', reject)
    })
    req.on('error', (err: Error & { reused?: boolean }) => {
      err.reused = req.reusedSocket
      reject(err)
    })
    req.end()
  })
}

/**
 * `connections` keep-alive clients each sending `/work` requests of `ms` back to back until the
 * listener refuses them. Resolves when every loop has ended.
 */
export function runLoad(
  port: number,
  {
    connections,
    ms,
    onResponse,
  }: { connections: number; ms: number; onResponse?: (count: number) => void },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const result: LoadResult = { ok: 0, non2xx: [], lost: [], refused: [], resetFresh: [] }
  let next = 0
  const loop = async (): Promise<void> => {
    for (;;) {
      const id = `load-${next++}`
      try {
        const res = await get(port, `/work?id=${id}&ms=${ms}`, agent)
        if (res.status >= 200 && res.status < 300) result.ok += 1
        else result.non2xx.push(`${res.status} ${id}`)
        onResponse?.(result.ok)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err)
        const reused = (err as { reused?: boolean }).reused === true
        if (code === 'ECONNRESET' && !reused) result.resetFresh.push(id)
        if (code === 'ECONNREFUSED' || (code === 'ECONNRESET' && !reused)) result.refused.push(id)
        else result.lost.push(`${code} ${id}`)
        return
      }
    }
  }
  return Promise.all(Array.from({ length: connections }, loop)).then(() => {
    agent.destroy()
    return result
  })
}
