import * as promClient from 'prom-client'
import { describe, expect, it } from 'vitest'
import { observeOverload, type OverloadSnapshotLike } from '../src/observe-overload.js'
import { parseSamples } from './prom-text.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function fakeOverload() {
  const snapshot: Omit<Mutable<OverloadSnapshotLike>, 'shed'> & { shed: Record<string, number> } = {
    state: 'shedding',
    limit: 12,
    inFlight: 7,
    queued: 3,
    shedLevel: 0.25,
    admitted: 1000,
    shed: {
      concurrency: 4,
      queue_timeout: 2,
      event_loop_backlog: 30,
      event_loop_delay: 0,
      heap: 0,
    },
    eventLoopDelayMs: 120,
    eventLoopUtilization: 0.99,
    heapUsedRatio: 0.5,
  }
  return { snapshot: () => ({ ...snapshot, shed: { ...snapshot.shed } }), current: snapshot }
}

const overloadSamples = async (registry: promClient.Registry) =>
  parseSamples(await registry.metrics())
    .filter((s) => s.name.startsWith('overload_'))
    .map((s) => [s.name, Object.values(s.labels).join('/'), s.value])

describe('observeOverload', () => {
  it('exports the limit, in-flight, queue, readings and shed counts by reason at scrape time', async () => {
    const registry = new promClient.Registry()
    const overload = fakeOverload()
    observeOverload(overload, { registry })
    expect(await overloadSamples(registry)).toEqual([
      ['overload_concurrency_limit', '', 12],
      ['overload_in_flight', '', 7],
      ['overload_queued', '', 3],
      ['overload_shedding', '', 1],
      ['overload_shed_level', '', 0.25],
      ['overload_event_loop_delay_seconds', '', 0.12],
      ['overload_event_loop_utilization', '', 0.99],
      ['overload_heap_used_ratio', '', 0.5],
      ['overload_admitted_total', '', 1000],
      ['overload_shed_total', 'concurrency', 4],
      ['overload_shed_total', 'queue_timeout', 2],
      ['overload_shed_total', 'event_loop_backlog', 30],
      ['overload_shed_total', 'event_loop_delay', 0],
      ['overload_shed_total', 'heap', 0],
    ])
    overload.current.state = 'normal'
    overload.current.shed.concurrency = 9
    const after = await overloadSamples(registry)
    expect(after).toContainEqual(['overload_shedding', '', 0])
    expect(after).toContainEqual(['overload_shed_total', 'concurrency', 9])
  })

  it('counts from zero again after registry.resetMetrics()', async () => {
    const registry = new promClient.Registry()
    const overload = fakeOverload()
    observeOverload(overload, { registry })
    registry.resetMetrics()
    overload.current.admitted += 5
    overload.current.shed.heap = 2
    const samples = await overloadSamples(registry)
    expect(samples).toContainEqual(['overload_admitted_total', '', 5])
    expect(samples).toContainEqual(['overload_shed_total', 'heap', 2])
    expect(samples).toContainEqual(['overload_shed_total', 'concurrency', 0])
  })

  it('stops exporting when told to, and takes one shedder per registry', async () => {
    const registry = new promClient.Registry()
    const stop = observeOverload(fakeOverload(), { registry, prefix: 'app_' })
    expect(() => observeOverload(fakeOverload(), { registry, prefix: 'app_' })).toThrow(
      '`registry` already exports a load shedder; observe one per registry (got a second shedder)',
    )
    stop()
    expect(
      parseSamples(await registry.metrics()).filter((s) => s.name.startsWith('app_overload')),
    ).toEqual([])
  })

  it('registers none of its metrics when one name is taken, naming it', () => {
    const registry = new promClient.Registry()
    new promClient.Counter({ name: 'overload_shed_total', help: 'x', registers: [registry] })
    expect(() => observeOverload(fakeOverload(), { registry })).toThrow(
      '`registry` already holds another metric named `overload_shed_total`; pass another `registry` or a `prefix` (got a registry with that name taken)',
    )
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['overload_shed_total'])
  })

  it('rejects what is not a load shedder and unknown options', () => {
    const registry = new promClient.Registry()
    expect(() => observeOverload({} as never, { registry })).toThrow(
      '`overload` must have a snapshot() method (got an object)',
    )
    expect(() => observeOverload(fakeOverload(), { registry, prefx: 'a_' } as never)).toThrow(
      '`prefx` is not an option of observeOverload; did you mean `prefix`?',
    )
  })
})
