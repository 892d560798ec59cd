import { connect, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHealth } from '../src/health.js'
import { ADAPTERS } from './servers.js'

const TOKEN = 'wire-token-of-24-chars!!'
const PROBES = ['/live', '/ready', '/health', '/startup', '/health/detailed'] as const
const ACCEPTS = [undefined, 'application/health+json'] as const
/** Far above any answer time, even on a loaded CI machine; a hang fails the test, not the run. */
const ANSWER_WITHIN_MS = 10_000

interface WireReply {
  statusLine: string
  status: number
  /** Header names lower-cased; a repeated header keeps every value. */
  headers: Map<string, string[]>
  body: string
}

/**
 * One client connection read the way an HTTP client reads it: each answer ends after its
 * `Content-Length` bytes (none for HEAD), so several requests can share the socket. An answer
 * without `Content-Length` is returned as soon as its head arrives, for the test to reject.
 */
class RawClient {
  readonly #socket: Socket
  #buffer = Buffer.alloc(0)
  #closed = false
  #waiting: (() => void) | undefined

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk])
      this.#waiting?.()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.#closed = true
      this.#waiting?.()
    })
  }

  static async open(url: string): Promise<RawClient> {
    const { port } = new URL(url)
    const socket = connect(Number(port), '127.0.0.1')
    onTestFinished(() => {
      socket.destroy()
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  /** Whether the server has closed the connection. */
  get closed(): boolean {
    return this.#closed
  }

  /** Resolves once the server has closed the connection. */
  async waitClosed(): Promise<void> {
    await this.#until(() => this.#closed, 'the server to close the connection')
  }

  async request(
    method: 'GET' | 'HEAD',
    path: string,
    version: 'HTTP/1.0' | 'HTTP/1.1',
    headers: Record<string, string | undefined> = {},
  ): Promise<WireReply> {
    const lines = [`${method} ${path} ${version}`, 'Host: 127.0.0.1']
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) lines.push(`${name}: ${value}`)
    }
    this.#socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    await this.#until(() => this.#buffer.includes('\r\n\r\n'), `the head of ${method} ${path}`)
    const end = this.#buffer.indexOf('\r\n\r\n')
    const [statusLine = '', ...fields] = this.#buffer
      .subarray(0, end)
      .toString('latin1')
      .split('\r\n')
    const replyHeaders = new Map<string, string[]>()
    for (const field of fields) {
      const colon = field.indexOf(':')
      const name = field.slice(0, colon).trim().toLowerCase()
      replyHeaders.set(name, [...(replyHeaders.get(name) ?? []), field.slice(colon + 1).trim()])
    }
    const length = replyHeaders.get('content-length')
    const bodyBytes = method === 'HEAD' || length?.length !== 1 ? 0 : Number(length[0])
    await this.#until(
      () => this.#buffer.length >= end + 4 + bodyBytes,
      `the ${bodyBytes}-byte body of ${method} ${path}`,
    )
    const body = this.#buffer.subarray(end + 4, end + 4 + bodyBytes).toString('utf8')
    this.#buffer = this.#buffer.subarray(end + 4 + bodyBytes)
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine)
    return {
      statusLine,
      status: status === null ? 0 : Number(status[1]),
      headers: replyHeaders,
      body,
    }
  }

  /** Any bytes the server sent past the answers read so far (a chunked trailer would be here). */
  get leftover(): string {
    return this.#buffer.toString('latin1')
  }

  async #until(done: () => boolean, what: string): Promise<void> {
    if (done()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = undefined
        reject(new Error(`waited ${ANSWER_WITHIN_MS} ms for ${what}`))
      }, ANSWER_WITHIN_MS)
      this.#waiting = () => {
        if (!done() && !this.#closed) return
        clearTimeout(timer)
        this.#waiting = undefined
        if (done()) resolve()
        else reject(new Error(`the connection closed before ${what}`))
      }
    })
  }
}

/** The framing headers of a reply, for one comparison that names the request on failure. */
const framing = (reply: WireReply) => ({
  contentLength: reply.headers.get('content-length'),
  transferEncoding: reply.headers.get('transfer-encoding'),
})

describe.each(ADAPTERS)('%s adapter on the wire', (_name, start) => {
  it('frames every probe answer with one Content-Length and never chunks it (HTTP/1.1, GET and HEAD)', async () => {
    const healthy = createHealth({ checks: { db: async () => {} }, token: TOKEN })
    const failing = createHealth({
      checks: { db: () => Promise.reject(new Error('down')) },
      token: TOKEN,
      startup: 'manual',
      logger: false,
    })
    onTestFinished(() => {
      healthy.close()
      failing.close()
    })
    const expected = {
      healthy: { '/live': 200, '/ready': 200, '/health': 200, '/startup': 200 },
      failing: { '/live': 200, '/ready': 503, '/health': 503, '/startup': 503 },
    }
    for (const [state, health] of [
      ['healthy', healthy],
      ['failing', failing],
    ] as const) {
      const client = await RawClient.open(await start(health))
      for (const path of PROBES) {
        for (const method of ['GET', 'HEAD'] as const) {
          for (const accept of ACCEPTS) {
            const what = `${state} ${method} ${path} accept=${accept ?? '-'}`
            const reply = await client.request(method, path, 'HTTP/1.1', { accept })
            const status = path === '/health/detailed' ? 401 : expected[state][path]
            expect([what, reply.status]).toEqual([what, status])
            expect([what, framing(reply)]).toEqual([
              what,
              { contentLength: [expect.stringMatching(/^[1-9]\d*$/)], transferEncoding: undefined },
            ])
            if (method === 'GET') {
              const length = Number(reply.headers.get('content-length')?.[0])
              expect([what, Buffer.byteLength(reply.body)]).toEqual([what, length])
              expect(() => JSON.parse(reply.body) as unknown).not.toThrow()
            }
          }
        }
      }
      // A token-bearing request is served too, framed the same way, on the same connection.
      const detailed = await client.request('GET', '/health/detailed', 'HTTP/1.1', {
        authorization: `Bearer ${TOKEN}`,
      })
      expect(detailed.status).toBe(state === 'healthy' ? 200 : 503)
      expect(framing(detailed).transferEncoding).toBeUndefined()
      expect(Buffer.byteLength(detailed.body)).toBe(
        Number(detailed.headers.get('content-length')?.[0]),
      )
      // Every answer was read by its Content-Length alone: nothing is left over on the socket.
      expect([client.closed, client.leftover]).toEqual([false, ''])
    }
  })

  it('keeps an HTTP/1.0 keep-alive connection open across every probe, then closes on a plain 1.0 request', async () => {
    const health = createHealth({ checks: { db: async () => {} }, token: TOKEN })
    onTestFinished(() => health.close())
    const client = await RawClient.open(await start(health))
    const statuses: [string, number][] = []
    // Two rounds: the second request on the socket is the point, and every probe is one.
    for (let round = 0; round < 2; round++) {
      for (const path of PROBES) {
        const what = `round ${round} GET ${path}`
        const reply = await client.request('GET', path, 'HTTP/1.0', { connection: 'keep-alive' })
        statuses.push([path, reply.status])
        expect([what, reply.headers.get('connection')]).toEqual([what, ['keep-alive']])
        expect([what, framing(reply)]).toEqual([
          what,
          { contentLength: [String(Buffer.byteLength(reply.body))], transferEncoding: undefined },
        ])
        expect([what, client.closed]).toEqual([what, false])
      }
    }
    expect(statuses).toEqual(
      [0, 1].flatMap(() => [
        ['/live', 200],
        ['/ready', 200],
        ['/health', 200],
        ['/startup', 200],
        ['/health/detailed', 401],
      ]),
    )
    // Without `Connection: keep-alive` an HTTP/1.0 connection ends after its answer.
    const last = await client.request('GET', '/live', 'HTTP/1.0')
    expect([last.status, JSON.parse(last.body)]).toEqual([200, { status: 'ok' }])
    expect(last.headers.get('connection')).not.toEqual(['keep-alive'])
    await client.waitClosed()
  })
})
