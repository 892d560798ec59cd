import { CircuitBreaker } from '@uptimekit/breaker'
import { describe, expect, it } from 'vitest'
import { createBalancer, type UpstreamStateChange } from '../src/index.js'
import { closedPort, closing, ok, sequential, startUpstreams, status, tally } from './upstreams.js'

const quiet = { logger: false, retries: 0 } as const
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function changes(balancer: { onStateChange(l: (c: UpstreamStateChange) => void): () => void }) {
  const seen: UpstreamStateChange[] = []
  balancer.onStateChange((change) => seen.push(change))
  return seen
}

/** Round robin over `upstreams` with passive health alone (no outlier ejection). */
const passiveOnly = (passive: { maxFails: number; failTimeoutMs: number }, upstreams: string[]) =>
  closing(createBalancer({ ...quiet, strategy: 'round-robin', outlier: false, passive, upstreams }))

describe('passive health (nginx max_fails / fail_timeout)', () => {
  it('takes an upstream out after maxFails 5xx answers, for failTimeoutMs', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = status(500)
    const balancer = passiveOnly({ maxFails: 2, failTimeoutMs: 60_000 }, [a!.url, b!.url])
    const seen = changes(balancer)
    const names = await sequential(balancer, 10)
    expect(tally(names)).toEqual({ 'status 500': 2, b: 8 })
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'down', reason: 'passive', fails: 2 })
    expect(seen).toEqual([{ url: a!.url, name: a!.url, from: 'up', to: 'down', reason: 'passive' }])
  })

  it('forgets failures after a quiet period of failTimeoutMs', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = status(500)
    const balancer = passiveOnly({ maxFails: 2, failTimeoutMs: 100 }, [a!.url, b!.url])
    await sequential(balancer, 2)
    await sleep(250)
    await sequential(balancer, 2)
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'up', fails: 1, failures: 2 })
  })

  it('tries an upstream again after failTimeoutMs; one success brings it back', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = status(500)
    const balancer = passiveOnly({ maxFails: 1, failTimeoutMs: 100 }, [a!.url, b!.url])
    const seen = changes(balancer)
    await sequential(balancer, 3)
    a!.behave = ok('a')
    await sleep(250)
    expect(tally(await sequential(balancer, 4))).toEqual({ a: 2, b: 2 })
    expect(seen.map((c) => c.to)).toEqual(['down', 'up'])
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'up', fails: 0 })
  })

  it('sends requests to every upstream when all are down, so traffic resumes when they return', async () => {
    const ups = await startUpstreams(2)
    for (const u of ups) u.behave = status(500)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'round-robin',
        passive: { maxFails: 1, failTimeoutMs: 60_000 },
        upstreams: ups.map((u) => u.url),
      }),
    )
    await sequential(balancer, 2)
    expect(balancer.snapshot().map((s) => s.state)).toEqual(['down', 'down'])
    for (const u of ups) u.behave = ok(u.name)
    expect(tally(await sequential(balancer, 4))).toEqual({ a: 2, b: 2 })
  })
})

describe('outlier ejection', () => {
  it('ejects after consecutive failures, and never more than the capped share', async () => {
    const ups = await startUpstreams(3)
    for (const u of ups) u.behave = status(502)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'round-robin',
        passive: false,
        retryStatuses: [],
        outlier: { consecutiveFailures: 3, baseEjectionMs: 60_000, maxEjectedRatio: 0.1 },
        upstreams: ups.map((u) => u.url),
      }),
    )
    await sequential(balancer, 30)
    const snapshot = balancer.snapshot()
    expect(snapshot.filter((s) => s.state === 'down')).toHaveLength(1)
    expect(snapshot.filter((s) => s.reason === 'ejected')).toHaveLength(1)
    expect(snapshot.reduce((sum, s) => sum + s.ejections, 0)).toBe(1)
  })

  it('ejects again for twice as long when an upstream fails right after its first ejection', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = status(500)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'round-robin',
        passive: false,
        retryStatuses: [],
        outlier: { consecutiveFailures: 1, baseEjectionMs: 3000, maxEjectedRatio: 0.5 },
        upstreams: [a!.url, b!.url],
      }),
    )
    await sequential(balancer, 2)
    expect(balancer.snapshot()[0]).toMatchObject({ reason: 'ejected', ejections: 1 })
    // Back after 3 s; one of the next two requests goes to a, fails, and ejects it for 6 s.
    await sleep(3300)
    expect(tally(await sequential(balancer, 2))).toEqual({ 'status 500': 1, b: 1 })
    expect(balancer.snapshot()[0]).toMatchObject({ reason: 'ejected', ejections: 2 })
    // Past the base time, a is still out: the second ejection lasts twice as long.
    await sleep(3500)
    expect(balancer.snapshot()[0]).toMatchObject({ reason: 'ejected', ejections: 2 })
    expect(tally(await sequential(balancer, 4))).toEqual({ b: 4 })
  }, 30_000)

  it('a success ends the streak', async () => {
    const [a] = await startUpstreams(1)
    let n = 0
    a!.behave = (req, res, body) => (n++ % 2 === 0 ? status(500) : ok('a'))(req, res, body)
    const balancer = closing(
      createBalancer({
        ...quiet,
        passive: false,
        outlier: { consecutiveFailures: 2 },
        upstreams: [a!.url],
      }),
    )
    await sequential(balancer, 10)
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'up', ejections: 0, failures: 5 })
  })
})

describe('active health checks', () => {
  it('takes an upstream out after `fails` failed checks and back after `passes`', async () => {
    const [a, b] = await startUpstreams(2)
    let ready = false
    a!.behave = (req, res, body) =>
      req.url === '/ready' ? status(ready ? 200 : 503)(req, res, body) : ok('a')(req, res, body)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'round-robin',
        active: { path: '/ready', intervalMs: 20, timeoutMs: 500, fails: 2, passes: 3 },
        upstreams: [a!.url, b!.url],
      }),
    )
    const seen = changes(balancer)
    while (seen.length === 0) await sleep(10)
    expect(seen[0]).toMatchObject({ url: a!.url, to: 'down', reason: 'active' })
    expect(tally(await sequential(balancer, 4))).toEqual({ b: 4 })
    const checksBefore = a!.seen.filter((r) => r.url === '/ready').length
    expect(checksBefore).toBeGreaterThanOrEqual(2)
    ready = true
    while (seen.length === 1) await sleep(10)
    expect(seen[1]).toMatchObject({ url: a!.url, to: 'up', reason: null })
    const passes = a!.seen.slice(checksBefore).filter((r) => r.url === '/ready').length
    expect(passes).toBeGreaterThanOrEqual(3)
    // b checks pass throughout; a is back.
    expect(tally(await sequential(balancer, 4))).toEqual({ a: 2, b: 2 })
  })
})

describe('backup upstreams', () => {
  it('get no traffic while a primary is up, all of it once none is', async () => {
    const [a, b, c] = await startUpstreams(3)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'round-robin',
        passive: { maxFails: 1, failTimeoutMs: 60_000 },
        upstreams: [a!.url, b!.url, { url: c!.url, backup: true }],
      }),
    )
    expect(tally(await sequential(balancer, 6))).toEqual({ a: 3, b: 3 })
    expect(balancer.snapshot()[2]).toMatchObject({ state: 'backup', backup: true })
    a!.behave = status(500)
    b!.behave = status(500)
    await sequential(balancer, 2)
    expect(tally(await sequential(balancer, 5))).toEqual({ c: 5 })
  })
})

describe('slow start', () => {
  it('an added upstream starts at a tenth of its weight', async () => {
    const [a, b, c] = await startUpstreams(3)
    const balancer = closing(
      createBalancer({
        ...quiet,
        strategy: 'weighted-round-robin',
        slowStartMs: 600_000,
        upstreams: [a!.url, b!.url],
      }),
    )
    balancer.setUpstreams([a!.url, b!.url, c!.url])
    expect(balancer.snapshot()[2]!.effectiveWeight).toBeCloseTo(0.1, 3)
    const counts = tally(await sequential(balancer, 42))
    expect(counts.c).toBe(2)
    expect(counts.a).toBe(20)
  })
})

describe('retries', () => {
  it('retries a refused connection on another upstream, for any method', async () => {
    const [a] = await startUpstreams(1)
    const dead = `http://127.0.0.1:${await closedPort()}`
    const balancer = closing(
      createBalancer({ logger: false, strategy: 'round-robin', upstreams: [dead, a!.url] }),
    )
    const res = await fetch('http://service/orders', {
      dispatcher: balancer,
      method: 'POST',
      body: 'order',
    } as unknown as RequestInit)
    expect(res.status).toBe(200)
    expect(a!.seen.map((r) => [r.method, r.body])).toEqual([['POST', 'order']])
    expect(balancer.snapshot()[0]).toMatchObject({ state: 'down', failures: 1 })
  })

  it('retries a 503 for GET but passes it on for POST', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = status(503)
    const balancer = closing(
      createBalancer({
        logger: false,
        strategy: 'round-robin',
        passive: false,
        outlier: false,
        upstreams: [a!.url, b!.url],
      }),
    )
    const post = await fetch('http://service/', {
      dispatcher: balancer,
      method: 'POST',
      body: 'x',
    } as unknown as RequestInit)
    expect([post.status, await post.text()]).toEqual([503, 'status 503'])
    await sequential(balancer, 1)
    const get = await fetch('http://service/', { dispatcher: balancer } as unknown as RequestInit)
    expect([get.status, await get.text()]).toEqual([200, 'b'])
    expect(a!.seen.map((r) => r.method)).toEqual(['POST', 'GET'])
  })

  it('does not retry a POST that reached an upstream which reset the connection', async () => {
    const [a, b] = await startUpstreams(2)
    a!.behave = (req) => req.socket.destroy()
    const balancer = closing(
      createBalancer({
        logger: false,
        strategy: 'round-robin',
        passive: false,
        upstreams: [a!.url, b!.url],
      }),
    )
    await expect(
      fetch('http://service/', {
        dispatcher: balancer,
        method: 'POST',
        body: 'x',
      } as unknown as RequestInit),
    ).rejects.toThrow()
    expect(b!.seen).toHaveLength(0)
    const get = await fetch('http://service/', { dispatcher: balancer } as unknown as RequestInit)
    expect([get.status, await get.text()]).toEqual([200, 'b'])
  })

  it('stops retrying when the retry budget is spent', async () => {
    const ups = await startUpstreams(2)
    for (const u of ups) u.behave = status(503)
    const balancer = closing(
      createBalancer({
        logger: false,
        strategy: 'round-robin',
        passive: false,
        outlier: false,
        retryBudget: { ratio: 0, minPerSecond: 0 },
        upstreams: ups.map((u) => u.url),
      }),
    )
    await sequential(balancer, 15)
    // The reserve holds 10 retries: 10 requests took two attempts, 5 took one.
    expect(ups[0]!.seen.length + ups[1]!.seen.length).toBe(25)
  })

  it('never sends a request or a retry to an upstream whose breaker is open', async () => {
    const [a, b] = await startUpstreams(2)
    const breaker = new CircuitBreaker({ name: 'b', logger: false })
    breaker.forceOpen()
    a!.behave = status(503)
    const balancer = closing(
      createBalancer({
        logger: false,
        strategy: 'round-robin',
        passive: false,
        outlier: false,
        upstreams: [a!.url, { url: b!.url, breaker }],
      }),
    )
    const names = await sequential(balancer, 4)
    expect(names).toEqual(['status 503', 'status 503', 'status 503', 'status 503'])
    expect(b!.seen).toHaveLength(0)
  })

  it('reports each outcome to the upstream breaker', async () => {
    const [a] = await startUpstreams(1)
    a!.behave = status(500)
    const breaker = new CircuitBreaker({ name: 'a', failureThreshold: 3, logger: false })
    const balancer = closing(
      createBalancer({
        ...quiet,
        passive: false,
        outlier: false,
        upstreams: [{ url: a!.url, breaker }],
      }),
    )
    await sequential(balancer, 3)
    expect(breaker.snapshot().state).toBe('open')
    const res = await fetch('http://service/', {
      dispatcher: balancer,
    } as unknown as RequestInit).catch((error: unknown) => error)
    expect((res as Error).cause).toMatchObject({ code: 'UPTIMEKIT_NO_UPSTREAM' })
    expect(a!.seen).toHaveLength(3)
  })
})
