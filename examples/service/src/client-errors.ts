// Requests Node rejects before any framework sees them (a malformed request line, headers past
// the size limit, a request that took too long) get the same JSON answer from both examples.
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

/** Answers a Node-level client error on its socket and closes it (a `clientError` listener). */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  if (socket.writable) {
    const statusCode = STATUS_BY_CODE[error.code ?? ''] ?? 400
    const reason = STATUS_CODES[statusCode] ?? 'Bad Request'
    const body = JSON.stringify({ error: reason.toLowerCase() })
    socket.write(
      `HTTP/1.1 ${statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}
