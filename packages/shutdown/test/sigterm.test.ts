import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type ChildEvent, type Framework, indexOf, lastIndexOf, startChild } from './child.js'
import { get, runLoad } from './load.js'
import { openRaw } from './raw-connection.js'

/** A second process spinning on a core, killed at the latest when the test ends. */
const busyCore = () => {
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
  onTestFinished(() => void busy.kill('SIGKILL'))
  return busy
}
const isLog = (msg: string) => (e: ChildEvent) => e.event === 'log' && e.msg === msg
/** Result and exit code from the last line the fixture printed, which must be the summary. */
const completion = (events: ChildEvent[]) => {
  const last = events.at(-1)
  return last?.msg === 'shutdown complete' ? { result: last.result, exitCode: last.exitCode } : last
}
const hookLogs = (events: ChildEvent[]) =>
  events
    .filter((e) => e.event === 'log' && typeof e.hook === 'string')
    .map((e) => ({ msg: e.msg, hook: e.hook, durationMs: typeof e.durationMs }))

// The long version, 100 trials per server kind, is bench/shutdown-trials.mjs.
describe.each([['http'], ['express'], ['fastify']] as [Framework][])(
  '%s under connection churn and a real SIGTERM',
  (framework) => {
    it('loses no request in 4 consecutive trials (drainDelayMs 500), two of them beside a busy core: no reset, fresh or reused', async () => {
      for (let trial = 0; trial < 4; trial++) {
        const child = await startChild(framework, { drainDelayMs: 500, timeoutMs: 5000 })
        const busy = trial % 2 === 1 ? busyCore() : undefined
        let signalled = false
        const result = await runLoad(child.port, {
          connections: 50,
          ms: 50,
          onResponse: (ok) => {
            if (ok >= 100 && !signalled) {
              signalled = true
              child.kill('SIGTERM')
            }
          },
        }).finally(() => busy?.kill('SIGKILL'))
        expect(await child.exited).toBe(0)
        // Each client ends on ECONNREFUSED once the listener closed; never on a reset.
        expect({
          trial,
          lost: result.lost,
          non2xx: result.non2xx,
          reset: result.resetFresh,
        }).toEqual({ trial, lost: [], non2xx: [], reset: [] })
        expect(result.refused.length).toBe(50)
      }
    })
  },
)

describe.each([['express'], ['fastify']] as [Framework][])(
  '%s under a real SIGTERM',
  (framework) => {
    // The framework's own close runs as the first hook of the Fastify adapter.
    const frameworkHooks = framework === 'fastify' ? ['fastify'] : []

    it('loses no request on 50 busy keep-alive connections, answers no non-2xx and exits 0 after draining', async () => {
      const drainDelayMs = 600
      // Slowest request 50 ms + 1 s: exit code 0 proves the exit came before this deadline.
      const child = await startChild(framework, {
        drainDelayMs,
        timeoutMs: drainDelayMs + 50 + 1000,
        hooks: [
          { name: 'db', kind: 'ok' },
          { name: 'cache', kind: 'ok' },
        ],
      })
      let signalled = false
      const load = runLoad(child.port, {
        connections: 50,
        ms: 50,
        onResponse: (ok) => {
          if (ok >= 200 && !signalled) {
            signalled = true
            child.kill('SIGTERM')
          }
        },
      })
      const result = await load
      const code = await child.exited
      expect(result.lost).toEqual([])
      expect(result.non2xx).toEqual([])
      expect(code).toBe(0)
      const { events } = child
      // A new connection refused or reset by the closed listener carried a request never read.
      const read = new Set(events.filter((e) => e.event === 'request').map((e) => e.id))
      expect(result.refused.filter((id) => read.has(id))).toEqual([])
      const notReady = indexOf(events, (e) => e.event === 'not-ready')
      const listenerClosed = indexOf(events, isLog('listener closed, draining connections'))
      // Requests kept being served between the readiness flip and the listener closing.
      const servedDuringDrain = events
        .slice(notReady, listenerClosed)
        .filter((e) => e.event === 'response').length
      expect(servedDuringDrain).toBeGreaterThan(50)
      const lastResponse = lastIndexOf(events, (e) => e.event === 'response')
      const firstHook = indexOf(events, (e) => e.event === 'hook-start')
      expect(firstHook).toBeGreaterThan(lastResponse)
      expect(events.filter((e) => e.event === 'hook-start').map((e) => e.name)).toEqual([
        'db',
        'cache',
      ])
      expect(hookLogs(events)).toEqual(
        [...frameworkHooks, 'db', 'cache'].map((hook) => ({
          msg: 'close hook done',
          hook,
          durationMs: 'number',
        })),
      )
      expect(completion(events)).toEqual({ result: 'drained', exitCode: 0 })
    })

    it('flips readiness at the signal, keeps /live 200 through the drain and answers a fresh connection 500 ms in', async () => {
      // 500 ms into a 1500 ms delay: a busy machine may run late by up to 1 s and still be in it.
      const child = await startChild(framework, { drainDelayMs: 1500, timeoutMs: 4000 })
      expect((await get(child.port, '/ready', false)).status).toBe(200)
      const signalledAt = performance.now()
      child.kill('SIGTERM')
      await child.waitFor((e) => e.event === 'not-ready')
      // The readiness flip is the first thing the shutdown does after logging the signal.
      expect(child.events.slice(1).map((e) => e.event)).toEqual(['log', 'not-ready'])
      expect(child.events[1]).toMatchObject({ msg: 'shutdown started', reason: 'SIGTERM' })
      const ready = await get(child.port, '/ready', false)
      expect(ready).toEqual({ status: 503, connection: 'close', body: '{"ready":false}' })
      const freshAt500 = sleep(Math.max(0, signalledAt + 500 - performance.now())).then(() =>
        get(child.port, '/work?id=fresh&ms=10', false),
      )
      // Liveness polled until 400 ms before the listener closes.
      const live: number[] = []
      while (performance.now() < signalledAt + 1100) {
        live.push((await get(child.port, '/live', false)).status)
        await sleep(50)
      }
      expect(live.length).toBeGreaterThanOrEqual(3)
      expect(live).toEqual(live.map(() => 200))
      const fresh = await freshAt500
      expect(fresh).toEqual({ status: 200, connection: 'close', body: '{"id":"fresh"}' })
      expect(await child.exited).toBe(0)
    })

    it('closes idle keep-alive connections with a FIN, not an RST', async () => {
      const child = await startChild(framework, { drainDelayMs: 300, timeoutMs: 3000 })
      const connections = Array.from({ length: 5 }, () => openRaw(child.port))
      const answers = await Promise.all(
        connections.map((c, i) => c.request(`/work?id=idle-${i}&ms=0`)),
      )
      expect(answers).toEqual(Array(5).fill('status 200'))
      child.kill('SIGTERM')
      expect(await child.exited).toBe(0)
      // The child's exit and its sockets' FINs reach this process in either order.
      await Promise.all(connections.map((c) => c.closed))
      expect(connections.map((c) => c.timeline)).toEqual(Array(5).fill(['end', 'close']))
    })

    it('answers every request it has read when requests race the drain on idle and new connections', async () => {
      const drainDelayMs = 400
      // Two shutdowns, 60 trials each: one every millisecond around the moment the listener
      // closes, alternating a request on an idle keep-alive connection and one on a new connection.
      for (let round = 0; round < 2; round++) {
        const child = await startChild(framework, { drainDelayMs, timeoutMs: 4000 })
        const idle = Array.from({ length: 30 }, () => openRaw(child.port))
        await Promise.all(idle.map((c, i) => c.request(`/work?id=warm-${i}&ms=0`)))
        child.kill('SIGTERM')
        const trials = Array.from({ length: 60 }, async (_, i) => {
          await sleep(drainDelayMs - 30 + i)
          const id = `race-${i}`
          const connection = i % 2 === 0 ? idle[i / 2]! : openRaw(child.port)
          return { id, outcome: await connection.request(`/work?id=${id}&ms=0`) }
        })
        const outcomes = await Promise.all(trials)
        expect(await child.exited).toBe(0)
        const read = new Set(child.events.filter((e) => e.event === 'request').map((e) => e.id))
        const readButNotAnswered = outcomes.filter(
          (t) => read.has(t.id) && t.outcome !== 'status 200',
        )
        expect(readButNotAnswered).toEqual([])
        const answered = outcomes.filter((t) => t.outcome === 'status 200').length
        expect(answered).toBe(outcomes.filter((t) => read.has(t.id)).length)
      }
    })

    it('destroys a request that never finishes at timeoutMs, still runs the hooks and exits 1', async () => {
      const child = await startChild(framework, {
        drainDelayMs: 200,
        timeoutMs: 1000,
        hooks: [{ name: 'db', kind: 'ok' }],
      })
      const hanging = openRaw(child.port)
      const answer = hanging.request('/hang')
      await child.waitFor((e) => e.event === 'request' && e.id === 'hang')
      child.kill('SIGTERM')
      expect(await child.exited).toBe(1)
      // Destroyed by the server: the client never gets an answer.
      expect(await answer).not.toMatch(/^status/)
      const { events } = child
      expect(events.find(isLog('timed out, destroyed the connections left'))).toMatchObject({
        timeoutMs: 1000,
        destroyedConnections: 1,
      })
      expect(indexOf(events, (e) => e.event === 'hook-end' && e.name === 'db')).toBeGreaterThan(
        indexOf(events, isLog('timed out, destroyed the connections left')),
      )
      expect(completion(events)).toEqual({ result: 'timed_out', exitCode: 1 })
    })

    it('exits at once with 143 on a second SIGTERM, starting no further hook', async () => {
      const child = await startChild(framework, {
        drainDelayMs: 200,
        timeoutMs: 2000,
        hookTimeoutMs: 20_000,
        hooks: [
          { name: 'slow', kind: 'slow', ms: 15_000 },
          { name: 'after', kind: 'ok' },
        ],
      })
      child.kill('SIGTERM')
      await child.waitFor((e) => e.event === 'hook-start' && e.name === 'slow')
      child.kill('SIGTERM')
      expect(await child.exited).toBe(143)
      const { events } = child
      const forced = indexOf(events, isLog('second signal, exiting now'))
      expect(events[forced]).toMatchObject({ level: 'warn', signal: 'SIGTERM', exitCode: 143 })
      expect(events.filter((e) => e.event === 'hook-start').map((e) => e.name)).toEqual(['slow'])
      expect(events.some((e) => e.event === 'hook-end')).toBe(false)
      expect(completion(events)).toEqual({ result: 'forced', exitCode: 143 })
    })

    it('runs every hook in order after the last response, past a throwing and a timed-out one', async () => {
      const child = await startChild(framework, {
        drainDelayMs: 200,
        timeoutMs: 3000,
        hooks: [
          { name: 'first', kind: 'throw' },
          { name: 'second', kind: 'hang', timeoutMs: 200 },
          { name: 'third', kind: 'ok' },
        ],
      })
      // Still in flight when the listener closes at 200 ms.
      const slow = Array.from({ length: 3 }, (_, i) =>
        get(child.port, `/work?id=slow-${i}&ms=600`, false),
      )
      await child.waitFor((e) => e.event === 'request' && e.id === 'slow-2')
      child.kill('SIGTERM')
      // In flight when the listener closed: answered in full, and told to go.
      expect(await Promise.all(slow)).toEqual(
        [0, 1, 2].map((i) => ({ status: 200, connection: 'close', body: `{"id":"slow-${i}"}` })),
      )
      expect(await child.exited).toBe(0)
      const { events } = child
      expect(indexOf(events, (e) => e.event === 'hook-start')).toBeGreaterThan(
        lastIndexOf(events, (e) => e.event === 'response'),
      )
      expect(events.filter((e) => e.event === 'hook-start').map((e) => e.name)).toEqual([
        'first',
        'second',
        'third',
      ])
      expect(events.filter((e) => e.event === 'hook-end').map((e) => e.name)).toEqual(['third'])
      expect(hookLogs(events)).toEqual([
        ...frameworkHooks.map((hook) => ({ msg: 'close hook done', hook, durationMs: 'number' })),
        { msg: 'close hook failed', hook: 'first', durationMs: 'number' },
        { msg: 'close hook timed out', hook: 'second', durationMs: 'number' },
        { msg: 'close hook done', hook: 'third', durationMs: 'number' },
      ])
      expect(events.find(isLog('close hook failed'))).toMatchObject({ err: 'first failed' })
      expect(events.find(isLog('close hook timed out'))).toMatchObject({
        err: 'close hook "second" timed out after 200 ms',
      })
    })
  },
)
