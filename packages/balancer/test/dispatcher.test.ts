import { createHook } from 'node:async_hooks'
import { lookup } from 'node:dns/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBalancer } from '../src/index.js'
import { closing, sequential, startUpstreams } from './upstreams.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Timers and sockets created while `watching` is on, and not yet destroyed. */
function liveResources(): { live: Map<number, string>; stop: () => void } {
  const live = new Map<number, string>()
  const hook = createHook({
    init(id, type) {
      // The test's own sleeps do not count.
      if (type !== 'Timeout' && type !== 'TCPWRAP') return
      if (!new Error().stack!.includes('sleep')) live.set(id, type)
    },
    destroy(id) {
      live.delete(id)
    },
  })
  hook.enable()
  return { live, stop: () => hook.disable() }
}

async function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )
}

describe('the balancer as an undici Dispatcher', () => {
  it('serves undici.request, with the upstream origin in place of the request one', async () => {
    const [a] = await startUpstreams(1)
    const balancer = closing(createBalancer({ logger: false, upstreams: [a!.url] }))
    const res = await request('http://users.internal/api/users/1?x=1', {
      dispatcher: balancer,
      headers: { 'x-trace': 't1' },
    })
    expect([res.statusCode, await res.body.text()]).toEqual([200, 'a'])
    expect(a!.seen[0]).toMatchObject({
      url: '/api/users/1?x=1',
      headers: { host: new URL(a!.url).host, 'x-trace': 't1' },
    })
  })

  it('passes an abort through to the attempt in flight, and counts it as no failure', async () => {
    const [a] = await startUpstreams(1)
    a!.behave = (_req, res) => {
      res.writeHead(200)
      res.write('partial')
    }
    const balancer = closing(createBalancer({ logger: false, upstreams: [a!.url] }))
    const controller = new AbortController()
    const res = await fetch('http://service/', {
      dispatcher: balancer,
      signal: controller.signal,
    } as unknown as RequestInit)
    const reader = res.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value as Uint8Array)).toBe('partial')
    controller.abort()
    await expect(reader.read()).rejects.toThrow()
    while (balancer.snapshot()[0]!.active > 0) await sleep(5)
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'up', failures: 0, picks: 1 })
  })

  it('answers requests after close() with a balancer-closed error', async () => {
    const [a] = await startUpstreams(1)
    const balancer = createBalancer({ logger: false, upstreams: [a!.url] })
    await balancer.close()
    const error = await fetch('http://service/', {
      dispatcher: balancer,
    } as unknown as RequestInit).catch((e: unknown) => e)
    expect((error as Error).cause).toMatchObject({ code: 'UPTIMEKIT_BALANCER_CLOSED' })
  })

  it('resolves a hostname upstream to its addresses and keeps their state across re-resolutions', async () => {
    const server = createServer((req, res) => res.end(req.headers.host))
    await new Promise<void>((resolve) => server.listen(0, '::', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const balancer = closing(
      createBalancer({
        logger: false,
        resolveIntervalMs: 20,
        upstreams: [`http://localhost:${port}`],
      }),
    )
    const addresses = (await lookup('localhost', { all: true })).map((entry) =>
      entry.family === 6 ? `http://[${entry.address}]:${port}` : `http://${entry.address}:${port}`,
    )
    while (balancer.snapshot()[0]!.url === `http://localhost:${port}`) await sleep(5)
    expect(
      balancer
        .snapshot()
        .map((s) => s.url)
        .sort(),
    ).toEqual([...new Set(addresses)].sort())
    expect(await sequential(balancer, 3)).toEqual(Array(3).fill(`localhost:${port}`))
    await sleep(100)
    const picks = balancer.snapshot().reduce((sum, s) => sum + s.picks, 0)
    expect(picks).toBe(3)
    expect(balancer.snapshot()[0]!.name).toBe(`http://localhost:${port}`)
  })

  it('leaves no timer and no socket after close()', async () => {
    const [a] = await startUpstreams(1)
    const watch = liveResources()
    onTestFinished(watch.stop)
    const balancer = createBalancer({
      logger: false,
      resolveIntervalMs: 50,
      active: { path: '/', intervalMs: 20 },
      upstreams: [a!.url, `http://localhost:${new URL(a!.url).port}`],
    })
    await sequential(balancer, 4)
    await sleep(60)
    await balancer.close()
    while ((await connections(a!.server)) > 0) await sleep(5)
    // Destroy hooks run after a handle closes; undici's process-wide tick timer and the
    // server's Date-header timer end within a second of their last use.
    for (let i = 0; i < 100 && watch.live.size > 0; i++) await sleep(50)
    expect([...watch.live.values()]).toEqual([])
  })
})
