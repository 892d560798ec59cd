import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { recordLogs } from './log-recorder.js'
import { type ServerKind, startServer } from './servers.js'

interface Answer {
  status: number
  connection: string | undefined
  body: string
}

const kinds: ServerKind[] = ['http', 'https', 'express', 'fastify']

describe.each(kinds)('%s', (kind) => {
  it('serves a request queued behind a streaming response with Connection: close and its full body', async () => {
    let release = (): void => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    let listenerClosed = (): void => {}
    const closed = new Promise<void>((resolve) => (listenerClosed = resolve))
    const { logger } = recordLogs()
    const started = await startServer(
      kind,
      {
        '/stream': { kind: 'stream', first: 'foo', last: 'bar', release: released },
        '/next': { kind: 'text', body: 'next', delayMs: 0 },
      },
      {
        drainDelayMs: 100,
        timeoutMs: 5000,
        logger: {
          ...logger,
          info: (_fields, msg) => {
            if (msg === 'listener closed, draining connections') listenerClosed()
          },
        },
      },
    )
    const secure = kind === 'https'
    // One socket: the second request waits for it, as behind a busy keep-alive connection.
    const agent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: started.ca })
      : new HttpAgent({ keepAlive: true, maxSockets: 1 })
    const get = (path: string, onHeaders?: () => void): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const send = secure ? httpsRequest : httpRequest
        const req = send({ host: '127.0.0.1', port: started.port, path, agent }, (res) => {
          onHeaders?.()
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (body += chunk))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
          )
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end()
      })
    let headers = (): void => {}
    const streaming = new Promise<void>((resolve) => (headers = resolve))
    const stream = get('/stream', headers)
    await streaming
    const done = started.shutdown.shutdown('deploy')
    const next = get('/next')
    await closed
    // The stream ends after the listener closed, with the next request queued behind it.
    await sleep(100)
    release()
    expect(await stream).toEqual({ status: 200, connection: 'keep-alive', body: 'foobar' })
    expect(await next).toEqual({ status: 200, connection: 'close', body: 'next' })
    expect(started.ran).toEqual(['/stream', '/next'])
    expect((await done).result).toBe('drained')
    agent.destroy()
  })
})
