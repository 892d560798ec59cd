import { connect } from 'node:net'

/** One HTTP/1.x request as a fuzz test builds it, sent byte for byte as written. */
export interface RawRequest {
  method: string
  target: string
  version: string
  headers: [string, string][]
  body: string
}

/** What came back: every byte read, and the status of the first status line (0 without one). */
export interface RawReply {
  raw: string
  status: number
}

export interface SendRawOptions {
  /** Rejects when the server has not closed the connection by then: a hang. */
  answerWithinMs: number
  /** Leaves (destroys the socket) this long after sending, for answers that never end. */
  leaveAfterMs?: number
}

/**
 * Sends one raw request on its own connection (latin1, so any byte goes through) and reads until
 * the server closes it. A reset after the answer is not an error: what was read counts.
 */
export function sendRaw(
  port: number,
  request: RawRequest,
  options: SendRawOptions,
): Promise<RawReply> {
  const head = [
    `${request.method} ${request.target} ${request.version}`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n')
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const raw = (): string => Buffer.concat(chunks).toString('latin1')
    const timer = setTimeout(() => {
      socket.destroy()
      const what = `${head.slice(0, 300)}: ${raw().slice(0, 200)}`
      reject(new Error(`no answer within ${options.answerWithinMs} ms to ${what}`))
    }, options.answerWithinMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = raw()
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text)
      resolve({ raw: text, status: status === null ? 0 : Number(status[1]) })
    })
    if (options.leaveAfterMs !== undefined) {
      setTimeout(() => socket.destroy(), options.leaveAfterMs)
    }
    socket.write(Buffer.from(`${head}\r\n\r\n${request.body}`, 'latin1'))
  })
}
