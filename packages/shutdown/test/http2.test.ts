import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { type ClientHttp2Session, connect, createSecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createShutdown } from '../src/shutdown.js'
import { recordLogs } from './log-recorder.js'

// node:crypto cannot issue certificates; openssl can, where it is installed.
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'uptimekit-h2-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
}

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
