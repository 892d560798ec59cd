import { type ClientHttp2Session, connect, createSecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createShutdown } from '../src/shutdown.js'
import { hasOpenssl, selfSignedCert } from './certificate.js'
import { recordLogs } from './log-recorder.js'

function get(client: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':path': path })
    let status = 0
    let body = ''
    stream.on('response', (headers) => (status = Number(headers[':status'])))
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => (body += chunk))
    stream.on('end', () => resolve({ status, body }))
    stream.on('error', reject)
  })
}

describe.runIf(hasOpenssl)('HTTP/2 (http2.createSecureServer)', () => {
  it('serves through the drain, then sends GOAWAY and lets the open stream finish', async () => {
    const { key, cert } = selfSignedCert()
    const server = createSecureServer({ key, cert }, (req, res) => {
      const ms = req.url === '/slow' ? 400 : 0
      setTimeout(() => res.end(req.url), ms)
    })
    onTestFinished(() => void server.close())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const shutdown = createShutdown(server, {
      signals: [],
      exit: false,
      drainDelayMs: 200,
      timeoutMs: 3000,
      logger: recordLogs().logger,
    })
    const client = connect(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      ca: cert,
    })
    onTestFinished(() => void client.destroy())
    const goaway = new Promise<number>((resolve) =>
      client.once('goaway', (code: number) => resolve(code)),
    )
    expect(await get(client, '/before')).toEqual({ status: 200, body: '/before' })
    const done = shutdown.shutdown('deploy')
    const slow = get(client, '/slow')
    await sleep(50)
    expect(await get(client, '/during-drain')).toEqual({ status: 200, body: '/during-drain' })
    // NO_ERROR: a graceful GOAWAY, sent when the listener closes, while /slow is still open.
    expect(await goaway).toBe(0)
    expect(await slow).toEqual({ status: 200, body: '/slow' })
    expect(await done).toMatchObject({ result: 'drained', exitCode: 0, destroyedConnections: 0 })
  })
})
