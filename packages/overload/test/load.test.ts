import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { OverloadSnapshot } from '../src/overload.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/service.mjs', import.meta.url))
// Each /work request keeps the service's CPU busy this long, so it serves at most
// 1000 / HANDLER_MS requests a second, whatever else runs on the machine (the wait is by the
// clock, not by instructions).
const HANDLER_MS = 10
const CAPACITY = 1000 / HANDLER_MS
// The fixture's /io dependency: 4 connections, 20 ms a call.
const IO_CAPACITY = 4 * (1000 / 20)
// A request counts as failed past this; far above any answer a working guard gives.
const CLIENT_TIMEOUT_MS = 5000

/** Starts the service in a child process; resolves with its base URL. */
async function startService(framework: string): Promise<string> {
  const child = spawn(process.execPath, [FIXTURE, framework, String(HANDLER_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  onTestFinished(() => {
    child.kill('SIGKILL')
  })
  const lines = createInterface({ input: child.stdout })
  for await (const line of lines) {
    const { port } = JSON.parse(line) as { port: number }
    return `http://127.0.0.1:${port}`
  }
  throw new Error('the service exited before listening')
}

type Outcome = 'ok' | 'shed' | 'failed'

/** One route's part of the load: its path and its share of the arrivals per second. */
interface Stream {
  path: string
  perSecond: number
}

/**
 * Open-loop load: each stream's requests are sent on a fixed schedule for `durationMs`, however
 * slowly the service answers (a closed loop would slow down with the service and hide the
 * overload). Resolves with the outcomes by path.
 */
async function openLoop(
  url: string,
  streams: Stream[],
  durationMs: number,
): Promise<Map<string, Outcome[]>> {
  const outcomes = new Map<string, Promise<Outcome>[]>(streams.map((s) => [s.path, []]))
  const send = async (path: string): Promise<Outcome> => {
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })
      const body = (await res.json()) as { code?: string }
      if (res.status === 200) return 'ok'
      return res.status === 503 && body.code === 'UPTIMEKIT_OVERLOADED' ? 'shed' : 'failed'
    } catch {
      return 'failed'
    }
  }
  const started = performance.now()
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = Math.min(performance.now() - started, durationMs)
      for (const { path, perSecond } of streams) {
        const sent = outcomes.get(path)!
        const due = Math.floor((elapsed / 1000) * perSecond)
        while (sent.length < due) sent.push(send(path))
      }
      if (elapsed >= durationMs) {
        clearInterval(tick)
        resolve()
      }
    }, 2)
  })
  const settled = new Map<string, Outcome[]>()
  for (const [path, pending] of outcomes) settled.set(path, await Promise.all(pending))
  return settled
}

/**
 * The /work requests a second the service completes right now, measured closed-loop (one
 * request at a time from each of two clients, so nothing queues and nothing is shed): the
 * capacity the machine gives it in this run, which other work on the machine lowers.
 */
async function measuredCapacity(url: string, durationMs = 1000): Promise<number> {
  let served = 0
  const until = performance.now() + durationMs
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (performance.now() < until) {
        const res = await fetch(`${url}/work`)
        await res.arrayBuffer()
        if (res.status === 200) served++
      }
    }),
  )
  return (served * 1000) / durationMs
}

const count = (outcomes: Outcome[] | undefined, kind: Outcome) =>
  (outcomes ?? []).filter((o) => o === kind).length

async function snapshotOf(url: string): Promise<OverloadSnapshot> {
  return (await (await fetch(`${url}/snapshot`)).json()) as OverloadSnapshot
}

describe.each(['express', 'fastify'])('%s under open-loop load', (framework) => {
  it('sheds nothing at a third of its capacity', async () => {
    const url = await startService(framework)
    const capacity = Math.min(CAPACITY, await measuredCapacity(url))
    const out = await openLoop(url, [{ path: '/work', perSecond: capacity / 3 }], 2000)
    const work = out.get('/work')!
    expect(work.length).toBeGreaterThan(capacity / 3)
    expect(count(work, 'ok')).toBe(work.length)
  })

  it('at 2.5x its CPU capacity never sheds probes, keeps serving and answers every request', async () => {
    const url = await startService(framework)
    const capacity = await measuredCapacity(url)
    const durationMs = 3000
    const out = await openLoop(
      url,
      [
        { path: '/work', perSecond: 2.4 * CAPACITY },
        { path: '/critical', perSecond: 0.1 * CAPACITY },
        { path: '/ready', perSecond: 20 },
      ],
      durationMs,
    )
    const [work, critical, ready] = [out.get('/work')!, out.get('/critical')!, out.get('/ready')!]
    // Probes: every one answered 200.
    expect(count(ready, 'ok')).toBe(ready.length)
    // Every request gets an answer, 200 or a quick 503: none hangs past the client's timeout.
    expect(count(work, 'failed') + count(critical, 'failed')).toBe(0)
    // Most of what the service can do is still done: at least half the capacity it showed
    // just before, closed-loop, in 200s.
    const served = count(work, 'ok') + count(critical, 'ok')
    expect(served).toBeGreaterThan(0.5 * capacity * (durationMs / 1000))
    // The excess is shed, and critical requests are shed far less than normal ones.
    expect(count(work, 'shed') / work.length).toBeGreaterThan(0.3)
    expect(count(critical, 'shed') / critical.length).toBeLessThan(
      (count(work, 'shed') / work.length) * 0.2,
    )
    const snapshot = await snapshotOf(url)
    expect(snapshot.shed.event_loop_backlog).toBeGreaterThan(0)
    // Synchronous handlers never hold more than one slot: the concurrency limit sheds none.
    expect(snapshot.shed.concurrency + snapshot.shed.queue_timeout).toBe(0)
  })

  it('at 2.5x the capacity of an I/O-bound dependency sheds by the concurrency limit', async () => {
    const url = await startService(framework)
    // 4 downstream connections of 20 ms each: 200 requests a second.
    const out = await openLoop(
      url,
      [
        { path: '/io', perSecond: 2.5 * IO_CAPACITY },
        { path: '/ready', perSecond: 20 },
      ],
      3000,
    )
    const [io, ready] = [out.get('/io')!, out.get('/ready')!]
    expect(count(ready, 'ok')).toBe(ready.length)
    expect(count(io, 'failed')).toBe(0)
    expect(count(io, 'shed')).toBeGreaterThan(0)
    expect(count(io, 'ok')).toBeGreaterThan(0.5 * IO_CAPACITY * 3)
    const snapshot = await snapshotOf(url)
    const byLimit = snapshot.shed.concurrency + snapshot.shed.queue_timeout
    expect(byLimit).toBeGreaterThan(0)
  })
})
