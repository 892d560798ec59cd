import * as promClient from 'prom-client'
import { describe, expect, it, vi } from 'vitest'
import {
  observeBreaker,
  type BreakerState,
  type ObservableBreaker,
} from '../src/observe-breaker.js'
import { observeHealth, type HealthReportLike } from '../src/observe-health.js'
import { samplesOf } from './prom-text.js'

function fakeBreaker(name: string) {
  const listeners = new Set<(change: { from: BreakerState; to: BreakerState }) => void>()
  const breaker = {
    name,
    state: 'closed' as BreakerState,
    onStateChange(listener: (change: { from: BreakerState; to: BreakerState }) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    moveTo(to: BreakerState) {
      const from = breaker.state
      breaker.state = to
      for (const l of listeners) l({ from, to })
    },
    listeners,
  }
  return breaker satisfies ObservableBreaker
}

const compact = (text: string, name: string) =>
  samplesOf(text, name).map((s) => [Object.values(s.labels).join('/'), s.value])

describe('observeBreaker', () => {
  it('exports each breaker state as 1 for the current state and counts transitions', async () => {
    const registry = new promClient.Registry()
    const payments = fakeBreaker('payments')
    const search = fakeBreaker('search')
    observeBreaker(payments, { registry })
    observeBreaker(search, { registry })
    payments.moveTo('open')
    payments.moveTo('half_open')
    payments.moveTo('open')
    const text = await registry.metrics()
    expect(compact(text, 'circuit_breaker_state')).toEqual([
      ['payments/closed', 0],
      ['payments/open', 1],
      ['payments/half_open', 0],
      ['search/closed', 1],
      ['search/open', 0],
      ['search/half_open', 0],
    ])
    expect(compact(text, 'circuit_breaker_transitions_total')).toEqual([
      ['payments/closed/open', 1],
      ['payments/open/half_open', 1],
      ['payments/half_open/open', 1],
    ])
  })

  it('stops exporting and unsubscribes when told to', async () => {
    const registry = new promClient.Registry()
    const payments = fakeBreaker('payments')
    const stop = observeBreaker(payments, { registry })
    stop()
    expect(payments.listeners.size).toBe(0)
    expect(compact(await registry.metrics(), 'circuit_breaker_state')).toEqual([])
  })

  it('rejects a second breaker with the same name and a non-breaker', () => {
    const registry = new promClient.Registry()
    observeBreaker(fakeBreaker('payments'), { registry })
    expect(() => observeBreaker(fakeBreaker('payments'), { registry })).toThrow(
      '`breaker.name` must be unique among observed breakers (got "payments")',
    )
    expect(() => observeBreaker({} as ObservableBreaker, { registry })).toThrow(
      '`breaker.name` must be a non-empty string (got undefined)',
    )
  })
})

describe('observeHealth', () => {
  const report: HealthReportLike = {
    status: 'degraded',
    checks: {
      redis: { status: 'pass', critical: true, durationMs: 12 },
      payments: { status: 'fail', critical: false, durationMs: 2000 },
    },
  }

  it('exports check status, duration and overall status from one check() per scrape', async () => {
    const registry = new promClient.Registry()
    const check = vi.fn(() => Promise.resolve(report))
    observeHealth({ check }, { registry })
    const text = await registry.metrics()
    expect(check).toHaveBeenCalledTimes(1)
    expect(compact(text, 'health_check_status')).toEqual([
      ['redis/true', 1],
      ['payments/false', 0],
    ])
    expect(compact(text, 'health_check_duration_seconds')).toEqual([
      ['redis', 0.012],
      ['payments', 2],
    ])
    expect(compact(text, 'health_status')).toEqual([
      ['healthy', 0],
      ['degraded', 1],
      ['unhealthy', 0],
    ])
    await registry.metrics()
    expect(check).toHaveBeenCalledTimes(2)
  })

  it('leaves the health metrics empty and warns when check() fails or hangs', async () => {
    const registry = new promClient.Registry()
    const warn = vi.fn()
    observeHealth(
      { check: () => new Promise<HealthReportLike>(() => {}) },
      { registry, timeoutMs: 20, logger: { info: vi.fn(), warn, error: vi.fn() } },
    )
    const text = await registry.metrics()
    expect(compact(text, 'health_check_status')).toEqual([])
    expect(compact(text, 'health_status')).toEqual([])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(
      { error: 'health.check() took longer than 20 ms' },
      'health.check() failed during a metrics scrape',
    )
  })

  it.each([
    [
      { timeoutMs: 3e9 },
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 3000000000)',
    ],
    [
      { timeout: 10 },
      '`timeout` is not an option of observeHealth; did you mean `timeoutMs`? (options: registry, prefix, timeoutMs, logger) (got 10)',
    ],
  ])('rejects %j', (extra, message) => {
    const registry = new promClient.Registry()
    expect(() =>
      observeHealth({ check: () => Promise.resolve(report) }, { registry, ...extra }),
    ).toThrow(message)
  })

  it('stops exporting when told to', async () => {
    const registry = new promClient.Registry()
    const check = vi.fn(() => Promise.resolve(report))
    observeHealth({ check }, { registry })()
    expect(compact(await registry.metrics(), 'health_check_status')).toEqual([])
    expect(check).not.toHaveBeenCalled()
  })
})
