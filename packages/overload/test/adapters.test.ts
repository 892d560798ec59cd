import { connect } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { overloadGuard } from '../src/express.js'
import { overloadPlugin } from '../src/fastify.js'
import { createOverload, type Overload } from '../src/overload.js'
import type { OverloadOptions } from '../src/options.js'
import { ADAPTERS } from './servers.js'

const shedBody = (message: string) => ({
  statusCode: 503,
  code: 'UPTIMEKIT_OVERLOADED',
  error: 'Service Unavailable',
  message,
})
const FULL = 'Service overloaded: every request slot and the queue are taken; retry later.'
const TIMED_OUT = 'Service overloaded: no request slot freed in time; retry later.'

/**
 * An overload closed after the test. The queue waits long unless told otherwise, and the same
 * while overloaded: the test process itself keeps its loop busy at times, and these cases are
 * about the queue, not about the loop.
 */
function overloadFor(options: OverloadOptions): Overload {
  const overload = createOverload({
    logger: false,
    maxQueueWaitMs: 10_000,
    overloadedQueueWaitMs: options.maxQueueWaitMs ?? 10_000,
    ...options,
  })
  onTestFinished(() => overload.close())
  return overload
}

/** Waits for a condition the server reaches on its own (no timing is asserted). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2))
}

async function json(res: Promise<Response>) {
  const r = await res
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() }
}

describe.each(ADAPTERS)('%s', (_name, start) => {
  it('passes requests through while there is room', async () => {
    const overload = overloadFor({})
    const app = await start(overload)
    expect(await json(fetch(`${app.url}/work`))).toEqual({
      status: 200,
      retryAfter: null,
      body: { ok: true },
    })
    expect(overload.snapshot()).toMatchObject({ state: 'normal', admitted: 1, inFlight: 0 })
  })

  it('queues a request past the limit and runs it once a slot frees', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const second = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    expect(app.hits.get('/hold')).toBe(1)
    app.release()
    expect((await first).status).toBe(200)
    await app.held(1)
    app.release()
    expect((await second).status).toBe(200)
    expect(overload.snapshot()).toMatchObject({ admitted: 2, queued: 0, state: 'normal' })
  })

  it('answers 503 with Retry-After and the house body when slots and queue are full', async () => {
    const overload = overloadFor({ concurrency: 1, retryAfterSeconds: 2 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const second = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    expect(await json(fetch(`${app.url}/hold`))).toEqual({
      status: 503,
      retryAfter: '2',
      body: shedBody(FULL),
    })
    expect(app.hits.get('/hold')).toBe(1)
    expect(overload.snapshot()).toMatchObject({ state: 'shedding' })
    expect(overload.snapshot().shed.concurrency).toBe(1)
    app.release()
    await first
    await app.held(1)
    app.release()
    await second
  })

  it('sheds a queued request after maxQueueWaitMs without running its handler', async () => {
    const overload = overloadFor({ concurrency: 1, maxQueueWaitMs: 100 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    expect(await json(fetch(`${app.url}/work`))).toEqual({
      status: 503,
      retryAfter: '1',
      body: shedBody(TIMED_OUT),
    })
    expect(app.hits.get('/work')).toBeUndefined()
    expect(overload.snapshot().shed.queue_timeout).toBe(1)
    app.release()
    expect((await first).status).toBe(200)
  })

  it('never sheds, counts or queues probe paths', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const second = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    expect(await json(fetch(`${app.url}/hold`))).toMatchObject({ status: 503 })
    for (const target of ['/ready', '/ready?verbose=1']) {
      expect(await json(fetch(`${app.url}${target}`))).toEqual({
        status: 200,
        retryAfter: null,
        body: { ready: true },
      })
    }
    expect(overload.snapshot()).toMatchObject({ admitted: 1, inFlight: 1, queued: 1 })
    app.release()
    await first
    await app.held(1)
    app.release()
    await second
  })

  it('gives a free slot to a critical request before a normal one, and sheds sheddable ones at the limit', async () => {
    const overload = overloadFor({ concurrency: 2 })
    const app = await start(overload)
    const running = [fetch(`${app.url}/hold`), fetch(`${app.url}/hold`)]
    await app.held(2)
    const normal = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    const critical = fetch(`${app.url}/hold-critical`)
    await until(() => overload.snapshot().queued === 2)
    expect((await fetch(`${app.url}/cheap`)).status).toBe(503)
    expect(app.hits.get('/cheap')).toBeUndefined()
    app.release()
    await Promise.all(running)
    await app.held(2)
    expect(app.order).toEqual(['/hold', '/hold', '/hold-critical', '/hold'])
    app.release()
    expect((await critical).status).toBe(200)
    expect((await normal).status).toBe(200)
  })

  it('lets a critical request take the queue place of a normal one', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const normal = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    const critical = fetch(`${app.url}/hold-critical`)
    expect(await json(normal)).toMatchObject({ status: 503, body: shedBody(FULL) })
    app.release()
    await first
    await app.held(1)
    app.release()
    expect((await critical).status).toBe(200)
    expect(app.order).toEqual(['/hold', '/hold-critical'])
  })

  it('answers a shed request before its body has arrived, and never parses it', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const second = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    const { port } = new URL(app.url)
    const socket = connect(Number(port), '127.0.0.1')
    onTestFinished(() => {
      socket.destroy()
    })
    // Headers and a tenth of the declared body: the rest never comes.
    socket.write(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":"',
    )
    const head = await new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (text.includes('\r\n\r\n')) resolve(text)
      })
    })
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable')
    expect(app.hits.get('/upload')).toBeUndefined()
    app.release()
    await first
    await app.held(1)
    app.release()
    await second
  })

  it('forgets a queued request whose client left, and never runs it', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const gone = new AbortController()
    const left = fetch(`${app.url}/hold`, { signal: gone.signal }).catch((err: unknown) => err)
    await until(() => overload.snapshot().queued === 1)
    gone.abort()
    await left
    await until(() => overload.snapshot().abandoned === 1)
    expect(overload.snapshot()).toMatchObject({ queued: 0, shed: { queue_timeout: 0 } })
    app.release()
    expect((await first).status).toBe(200)
    expect(app.hits.get('/hold')).toBe(1)
  })

  it('admits everything once the overload is closed, queued requests included', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const app = await start(overload)
    const first = fetch(`${app.url}/hold`)
    await app.held(1)
    const second = fetch(`${app.url}/hold`)
    await until(() => overload.snapshot().queued === 1)
    overload.close()
    await app.held(2)
    expect((await fetch(`${app.url}/work`)).status).toBe(200)
    app.release()
    expect((await first).status).toBe(200)
    expect((await second).status).toBe(200)
  })
})

describe('route priorities', () => {
  it('rejects a bad Express priority when the guard is made', () => {
    const overload = overloadFor({})
    expect(() => overloadGuard(overload, { priority: 'urgent' as never })).toThrow(
      "`priority` must be one of 'critical', 'normal', 'sheddable' (got \"urgent\")",
    )
    expect(() => overloadGuard({} as Overload)).toThrow(
      '`overload` must be created by createOverload() (got an object)',
    )
    expect(() => express().use(overloadGuard(overload, { priorty: 'critical' } as never))).toThrow(
      '`priorty` is not an option of overloadGuard; did you mean `priority`?',
    )
  })

  it('rejects a bad Fastify route priority at registration', async () => {
    const overload = overloadFor({})
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(overloadPlugin, { overload })
    expect(() =>
      app.get('/x', { config: { overload: { priority: 'urgent' as never } } }, () => 'x'),
    ).toThrow("`config.overload.priority` must be one of 'critical', 'normal', 'sheddable'")
  })

  it('rejects a Fastify registration without an overload', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await expect(app.register(overloadPlugin, {} as never)).rejects.toThrow(
      '`overload` must be created by createOverload() (got undefined)',
    )
  })
})
