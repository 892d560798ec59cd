import { type Socket, connect } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * A raw TCP client that records how the connection ends ('end' = a FIN, 'error ECONNRESET' =
 * an RST), which node:http's client hides behind "socket hang up".
 */
export interface RawConnection {
  /** What happened to the socket, in order: `end`, `close`, `close with error`, `error <code>`. */
  timeline: string[]
  /** Writes a GET (queued until connected) and resolves with `status <code>` or how the connection ended first. */
  request(path: string): Promise<string>
  /** Resolves with true once the TCP handshake is done, false if the connection failed. */
  connected: Promise<boolean>
  /** Resolves once the socket has closed, with `timeline` complete. */
  closed: Promise<void>
}

/** Opens a connection to 127.0.0.1:`port`, destroyed when the test ends. */
export function openRaw(port: number): RawConnection {
  const socket: Socket = connect({ host: '127.0.0.1', port })
  onTestFinished(() => void socket.destroy())
  const timeline: string[] = []
  let buffer = ''
  let waiter: ((outcome: string) => void) | undefined
  const settle = (outcome: string): void => {
    const resolve = waiter
    waiter = undefined
    resolve?.(outcome)
  }
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    const headerEnd = buffer.indexOf('\r\n\r\n')
    if (headerEnd === -1) return
    const head = buffer.slice(0, headerEnd)
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    if (buffer.length < headerEnd + 4 + length) return
    buffer = buffer.slice(headerEnd + 4 + length)
    settle(`status ${head.split(' ')[1]}`)
  })
  socket.on('end', () => {
    timeline.push('end')
    settle('ended')
  })
  socket.on('error', (err: NodeJS.ErrnoException) => {
    timeline.push(`error ${err.code}`)
    settle(`error ${err.code}`)
  })
  socket.on('close', (hadError) => {
    timeline.push(hadError ? 'close with error' : 'close')
    settle('closed')
  })
  return {
    timeline,
    request(path) {
      if (socket.destroyed || !socket.writable) return Promise.resolve('closed before sending')
      return new Promise((resolve) => {
        waiter = resolve
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      })
    },
    connected: new Promise((resolve) => {
      socket.once('connect', () => resolve(true))
      socket.once('error', () => resolve(false))
    }),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  }
}
