import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as promClient from 'prom-client'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createBalancer } from '../../balancer/src/index.js'
import {
  observeBalancer,
  type BalancerUpstreamLike,
  type ObservableBalancer,
} from '../src/observe-balancer.js'
import { samplesOf } from './prom-text.js'

function fakeBalancer(
  upstreams: BalancerUpstreamLike[],
): ObservableBalancer & { upstreams: BalancerUpstreamLike[] } {
  return { upstreams, snapshot: () => upstreams }
}

const upstream = (
  url: string,
  fields: Partial<BalancerUpstreamLike> = {},
): BalancerUpstreamLike => ({
  url,
  state: 'up',
  active: 0,
  picks: 0,
  failures: 0,
  ejections: 0,
  ewmaMs: 0,
  ...fields,
})

const compact = (text: string, name: string) =>
  samplesOf(text, name).map((s) => [Object.values(s.labels).join(' '), s.value])

describe('observeBalancer', () => {
  it('exports state, in-flight, response time and counts per upstream at scrape time', async () => {
    const registry = new promClient.Registry()
    const users = fakeBalancer([
      upstream('http://10.0.0.1:3000', { active: 2, picks: 10, failures: 1, ewmaMs: 12 }),
      upstream('http://10.0.0.2:3000', { state: 'down', picks: 4, failures: 4, ejections: 1 }),
    ])
    observeBalancer(users, { registry, name: 'users' })
    const text = await registry.metrics()
    expect(compact(text, 'balancer_upstream_state')).toEqual([
      ['users http://10.0.0.1:3000 up', 1],
      ['users http://10.0.0.1:3000 down', 0],
      ['users http://10.0.0.1:3000 backup', 0],
      ['users http://10.0.0.2:3000 up', 0],
      ['users http://10.0.0.2:3000 down', 1],
      ['users http://10.0.0.2:3000 backup', 0],
    ])
    expect(compact(text, 'balancer_upstream_in_flight')).toEqual([
      ['users http://10.0.0.1:3000', 2],
      ['users http://10.0.0.2:3000', 0],
    ])
    expect(compact(text, 'balancer_upstream_response_time_seconds')).toEqual([
      ['users http://10.0.0.1:3000', 0.012],
      ['users http://10.0.0.2:3000', 0],
    ])
    expect(compact(text, 'balancer_upstream_requests_total')).toEqual([
      ['users http://10.0.0.1:3000', 10],
      ['users http://10.0.0.2:3000', 4],
    ])
    expect(compact(text, 'balancer_upstream_failures_total')).toEqual([
      ['users http://10.0.0.1:3000', 1],
      ['users http://10.0.0.2:3000', 4],
    ])
    expect(compact(text, 'balancer_upstream_ejections_total')).toEqual([
      ['users http://10.0.0.1:3000', 0],
      ['users http://10.0.0.2:3000', 1],
    ])
  })

  it('counts from zero again after registry.resetMetrics()', async () => {
    const registry = new promClient.Registry()
    const users = fakeBalancer([upstream('http://10.0.0.1:3000', { picks: 10 })])
    observeBalancer(users, { registry, name: 'users' })
    registry.resetMetrics()
    users.upstreams[0] = upstream('http://10.0.0.1:3000', { picks: 13 })
    expect(compact(await registry.metrics(), 'balancer_upstream_requests_total')).toEqual([
      ['users http://10.0.0.1:3000', 3],
    ])
  })

  it('shares the metrics between balancers and stops exporting one when told to', async () => {
    const registry = new promClient.Registry()
    const stop = observeBalancer(fakeBalancer([upstream('http://a:1')]), { registry, name: 'a' })
    observeBalancer(fakeBalancer([upstream('http://b:1')]), { registry, name: 'b' })
    expect(() => observeBalancer(fakeBalancer([]), { registry, name: 'b' })).toThrow(
      '`name` must be unique among observed balancers (got "b")',
    )
    stop()
    expect(compact(await registry.metrics(), 'balancer_upstream_in_flight')).toEqual([
      ['b http://b:1', 0],
    ])
  })

  it('registers none of its metrics when one name is taken, naming it', () => {
    const registry = new promClient.Registry()
    new promClient.Gauge({
      name: 'balancer_upstream_failures_total',
      help: 'x',
      registers: [registry],
    })
    expect(() => observeBalancer(fakeBalancer([]), { registry, name: 'users' })).toThrow(
      '`registry` already holds another metric named `balancer_upstream_failures_total`; pass another `registry` or a `prefix` (got a registry with that name taken)',
    )
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual([
      'balancer_upstream_failures_total',
    ])
  })

  it('rejects what is not a balancer', () => {
    const registry = new promClient.Registry()
    expect(() => observeBalancer({} as never, { registry, name: 'x' })).toThrow(
      '`balancer` must have a snapshot() method (got an object)',
    )
    expect(() => observeBalancer(fakeBalancer([]), { registry } as never)).toThrow(
      '`name` must be a non-empty string (got undefined)',
    )
  })

  it('reads a real @uptimekit/balancer', async () => {
    const server = createServer((_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const balancer = createBalancer({ logger: false, upstreams: [url] })
    onTestFinished(() => balancer.close())
    const registry = new promClient.Registry()
    observeBalancer(balancer, { registry, name: 'users' })
    for (let i = 0; i < 3; i++) {
      await (
        await fetch('http://users/', { dispatcher: balancer } as unknown as RequestInit)
      ).text()
    }
    const text = await registry.metrics()
    expect(compact(text, 'balancer_upstream_requests_total')).toEqual([[`users ${url}`, 3]])
    expect(compact(text, 'balancer_upstream_state')).toEqual([
      [`users ${url} up`, 1],
      [`users ${url} down`, 0],
      [`users ${url} backup`, 0],
    ])
  })
})
