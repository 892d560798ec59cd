import { describe, expect, it } from 'vitest'
import { createBalancer } from '../src/index.js'
import { closing, sequential, startUpstreams, status, tally, type Behaviour } from './upstreams.js'

const quiet = { logger: false, passive: false, outlier: false, retries: 0 } as const

/** Answers after `ms`. */
const slow =
  (name: string, ms: number): Behaviour =>
  (_req, res) => {
    setTimeout(() => res.end(name), ms)
  }

describe('strategies over real upstreams', () => {
  it('round-robin sends each upstream the same number of requests, in turn', async () => {
    const [a, b, c] = await startUpstreams(3)
    const balancer = closing(
      createBalancer({ ...quiet, strategy: 'round-robin', upstreams: [a!.url, b!.url, c!.url] }),
    )
    expect(await sequential(balancer, 9)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c'])
  })

  it('weighted-round-robin is smooth, as nginx: weights 5, 1, 1 give a a b a c a a', async () => {
    const [a, b, c] = await startUpstreams(3)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'weighted-round-robin',
        upstreams: [{ url: a!.url, weight: 5 }, b!.url, c!.url],
      }),
    )
    expect((await sequential(balancer, 14)).join('')).toBe('aabacaaaabacaa')
  })

  it('random follows the weights', async () => {
    const [a, b] = await startUpstreams(2)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'random',
        upstreams: [{ url: a!.url, weight: 3 }, b!.url],
      }),
    )
    const counts = tally(await sequential(balancer, 400))
    // 400 draws at p = 0.75: outside 250..350 is more than 5.8 standard deviations away.
    expect(counts.a).toBeGreaterThan(250)
    expect(counts.a).toBeLessThan(350)
    expect(counts.a! + counts.b!).toBe(400)
  })

  it.each(['two-choices', 'all'] as const)(
    'least-connections (%s) avoids the upstream holding requests open',
    async (scan) => {
      const [a, b] = await startUpstreams(2)
      const held: (() => void)[] = []
      a!.behave = (_req, res) => held.push(() => res.end('a'))
      const balancer = closing(
        createBalancer({
          ...quiet,
          strategy: 'least-connections',
          scan,
          upstreams: [a!.url, b!.url],
        }),
      )
      // Until a holds one request, b answers; then a holds one and b takes the rest.
      const pending: Promise<Response>[] = []
      while (held.length === 0) {
        const res = fetch('http://service/', { dispatcher: balancer } as unknown as RequestInit)
        pending.push(res)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      // Requests b was still answering would make a tie, which either side may win.
      while (balancer.snapshot()[1]!.active > 0)
        await new Promise((resolve) => setTimeout(resolve, 5))
      expect(tally(await sequential(balancer, 20))).toEqual({ b: 20 })
      held.forEach((release) => release())
      await Promise.all(pending.map(async (res) => (await res).text()))
    },
  )

  it.each([
    ['an upstream 100x slower', slow('c', 1500), 'c'],
    ['an upstream answering fast 503s', status(503), 'status 503'],
  ] as const)(
    'least-response-time sends %s one request, to measure it',
    async (_name, behave, answer) => {
      const [a, b, c] = await startUpstreams(3)
      c!.behave = behave
      const balancer = closing(
        createBalancer({
          ...quiet,
          strategy: 'least-response-time',
          scan: 'all',
          upstreams: [a!.url, b!.url, c!.url],
        }),
      )
      const counts = tally(await sequential(balancer, 40))
      // Each upstream is measured once first (unmeasured ones go first); then c, at 1500 ms or
      // the 1000 ms failure penalty, decays for minutes before it looks as fast as a or b.
      expect(counts[answer]).toBe(1)
      expect(counts.a! + counts.b!).toBe(39)
    },
  )

  it('least-response-time gives an upstream not measured yet one request at a time', async () => {
    const ups = await startUpstreams(3)
    const held: (() => void)[] = []
    ups[2]!.behave = (_req, res) => held.push(() => res.end('c'))
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'least-response-time',
        scan: 'all',
        upstreams: ups.map((u) => u.url),
      }),
    )
    const pending: Promise<Response>[] = []
    const arrived = (): number => ups.reduce((sum, u) => sum + u.seen.length, 0)
    for (let i = 0; i < 10; i++) {
      pending.push(fetch('http://service/', { dispatcher: balancer } as unknown as RequestInit))
      while (arrived() <= i) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(ups[2]!.seen).toHaveLength(1)
    expect(arrived()).toBe(10)
    held.forEach((release) => release())
    await Promise.all(pending.map(async (res) => (await res).text()))
  })

  it.each(['consistent-hash', 'ip-hash'] as const)(
    '%s sends one key to one upstream',
    async (strategy) => {
      const ups = await startUpstreams(4)
      const balancer = closing(
        createBalancer({ ...quiet, strategy, upstreams: ups.map((u) => u.url) }),
      )
      const header = strategy === 'ip-hash' ? 'x-real-ip' : 'x-balance-key'
      for (const key of ['10.1.2.3', '10.9.9.9', 'user-42']) {
        const names = await sequential(balancer, 5, { headers: { [header]: key } })
        expect(new Set(names).size).toBe(1)
      }
    },
  )

  it('consistent-hash takes its key from hashKey(request) when given', async () => {
    const ups = await startUpstreams(4)
    const keys: string[] = []
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'consistent-hash',
        hashKey: (request) => {
          keys.push(`${request.method} ${request.path} ${request.header('X-Tenant') ?? '-'}`)
          return request.header('x-tenant')
        },
        upstreams: ups.map((u) => u.url),
      }),
    )
    const names = await sequential(balancer, 6, { headers: { 'x-tenant': 'acme' } })
    expect(new Set(names).size).toBe(1)
    expect(keys[0]).toBe('GET /item/0 acme')
    expect(keys).toHaveLength(6)
  })

  it('consistent-hash moves only the keys of a removed upstream', async () => {
    const ups = await startUpstreams(5)
    const balancer = closing(
      createBalancer({ ...quiet, strategy: 'consistent-hash', upstreams: ups.map((u) => u.url) }),
    )
    const place = async (): Promise<string[]> => {
      const names: string[] = []
      for (let key = 0; key < 300; key++) {
        const res = await fetch('http://service/', {
          dispatcher: balancer,
          headers: { 'x-balance-key': `key-${key}` },
        } as unknown as RequestInit)
        names.push(await res.text())
      }
      return names
    }
    const before = await place()
    balancer.setUpstreams(ups.filter((u) => u.name !== 'c').map((u) => u.url))
    const after = await place()
    const moved = before.filter((name, key) => after[key] !== name)
    expect(new Set(moved)).toEqual(new Set(['c']))
    expect(moved.length).toBe(tally(before).c)
    // Each upstream held about a fifth of the keys (300 / 5 = 60).
    for (const count of Object.values(tally(before))) {
      expect(count).toBeGreaterThan(30)
      expect(count).toBeLessThan(90)
    }
  })

  it('consistent-hash bounds the load: a hot key spills over to its next choice', async () => {
    const ups = await startUpstreams(3)
    const held: (() => void)[] = []
    for (const u of ups) u.behave = (_req, res) => held.push(() => res.end(u.name))
    const balancer = closing(
      createBalancer({ ...quiet, strategy: 'consistent-hash', upstreams: ups.map((u) => u.url) }),
    )
    const pending: Promise<Response>[] = []
    for (let i = 0; i < 6; i++) {
      pending.push(
        fetch('http://service/', {
          dispatcher: balancer,
          headers: { 'x-balance-key': 'hot' },
        } as unknown as RequestInit),
      )
      while (held.length <= i) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const busiest = Math.max(...ups.map((u) => u.seen.length))
    // In flight: 0,1,...,5 before each pick; the cap is ceil((n + 1) / 3 * 1.25).
    expect(busiest).toBeLessThan(6)
    expect(ups.reduce((sum, u) => sum + u.seen.length, 0)).toBe(6)
    held.forEach((release) => release())
    await Promise.all(pending.map(async (res) => (await res).text()))
  })
})
