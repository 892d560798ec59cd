import { connect } from 'node:net'
import { onTestFinished } from 'vitest'

/**
 * Sends `target` as the request target of a GET over a raw socket (so it reaches the server as
 * written: absolute form, `%`-escapes, any case) and resolves with the response's status code.
 */
export function rawGet(url: string, target: string): Promise<number> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    onTestFinished(() => {
      socket.destroy()
    })
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(received)
      if (status === null) reject(new Error(`no status line in ${JSON.stringify(received)}`))
      else resolve(Number(status[1]))
    })
    socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`)
  })
}
