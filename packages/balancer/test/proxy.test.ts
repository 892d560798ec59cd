import type { AddressInfo } from 'node:net'
import { request as httpRequest } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBalancer, type Balancer } from '../src/index.js'
import { proxyHandler } from '../src/express.js'
import { proxyPlugin } from '../src/fastify.js'
import { closedPort, closing, startUpstreams } from './upstreams.js'

type Start = (balancer: Balancer) => Promise<string>

const startExpress: Start = async (balancer) => {
  const app = express()
  app.get('/local', (_req, res) => {
    res.send('local')
  })
  app.use('/api', proxyHandler(balancer))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const startFastify: Start = async (balancer) => {
  const app = Fastify()
  app.get('/local', () => 'local')
  await app.register(proxyPlugin, { balancer, prefix: '/api' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  onTestFinished(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** A raw request, so hop-by-hop headers can be sent and seen. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

const quiet = { logger: false, strategy: 'round-robin' } as const

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
] as const)('%s proxy', (_name, start) => {
  it('passes the request on with X-Forwarded-* and X-Real-IP, without hop-by-hop headers', async () => {
    const [a] = await startUpstreams(1)
    a!.behave = (_req, res) => {
      res.writeHead(201, { 'x-from': 'a', 'keep-alive': 'timeout=5', 'x-hop': 'secret' })
      res.end('created')
    }
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [a!.url] })))
    const res = await raw(`${url}/api/orders?id=7`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        connection: 'keep-alive, x-drop-me',
        'x-drop-me': '1',
        'x-forwarded-for': '203.0.113.9',
        'x-keep': 'yes',
      },
      body: '{"item":1}',
    })
    expect(res.status).toBe(201)
    expect(res.body).toBe('created')
    expect(res.headers['x-from']).toBe('a')
    const seen = a!.seen[0]!
    expect([seen.method, seen.url, seen.body]).toEqual(['POST', '/api/orders?id=7', '{"item":1}'])
    expect(seen.headers).toMatchObject({
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-real-ip': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(url).host,
      host: new URL(a!.url).host,
      'x-keep': 'yes',
      'content-type': 'application/json',
    })
    expect(seen.headers['x-drop-me']).toBeUndefined()
  })

  it('does not touch routes outside its prefix', async () => {
    const [a] = await startUpstreams(1)
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [a!.url] })))
    const res = await fetch(`${url}/local`)
    expect(await res.text()).toBe('local')
    expect(a!.seen).toHaveLength(0)
  })

  it('streams a large body both ways', async () => {
    const [a] = await startUpstreams(1)
    a!.behave = (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      // Echo the body four times, in pieces.
      for (let i = 0; i < 4; i++) res.write(body)
      res.end()
    }
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [a!.url] })))
    const body = 'x'.repeat(1 << 20)
    const res = await fetch(`${url}/api/echo`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    })
    expect(res.status).toBe(200)
    expect((await res.text()).length).toBe(4 << 20)
    expect(a!.seen[0]!.body.length).toBe(1 << 20)
  })

  it('answers 503 with the house error body when there is no upstream', async () => {
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [] })))
    const res = await fetch(`${url}/api/x`)
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      statusCode: 503,
      code: 'UPTIMEKIT_NO_UPSTREAM',
      error: 'Service Unavailable',
      message: 'no upstream can take the request',
    })
  })

  it('answers 502 when every upstream refuses the connection', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [dead] })))
    const res = await fetch(`${url}/api/x`)
    expect(res.status).toBe(502)
    expect(await res.json()).toEqual({
      statusCode: 502,
      code: 'UPTIMEKIT_UPSTREAM_FAILED',
      error: 'Bad Gateway',
      message: 'the upstream failed to answer (ECONNREFUSED)',
    })
  })

  it('answers 504 when the upstream sends no headers in time', async () => {
    const [a] = await startUpstreams(1)
    a!.behave = () => {}
    const url = await start(
      closing(createBalancer({ ...quiet, retries: 0, headersTimeoutMs: 200, upstreams: [a!.url] })),
    )
    const res = await fetch(`${url}/api/x`)
    expect(res.status).toBe(504)
    expect(await res.json()).toMatchObject({ statusCode: 504, code: 'UPTIMEKIT_UPSTREAM_TIMEOUT' })
  })

  it('retries a GET on another upstream when one resets the connection', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = (req) => req.socket.destroy()
    const url = await start(closing(createBalancer({ ...quiet, upstreams: [a!.url, b!.url] })))
    const res = await fetch(`${url}/api/x`)
    expect([res.status, await res.text()]).toEqual([200, 'b'])
  })

  it('ip-hash keeps one client on one upstream', async () => {
    const ups = await startUpstreams(3)
    const url = await start(
      closing(
        createBalancer({ logger: false, strategy: 'ip-hash', upstreams: ups.map((u) => u.url) }),
      ),
    )
    const names = new Set<string>()
    for (let i = 0; i < 6; i++) names.add(await (await fetch(`${url}/api/x`)).text())
    expect(names.size).toBe(1)
  })
})
