import { describe, expect, it } from 'vitest'
import { type ChildEvent, indexOf, lastIndexOf, startChild } from './child.js'
import { get } from './load.js'

const SERVERS = ['express', 'admin', 'fastify']
const completeOf = (events: ChildEvent[], server: string) =>
  events.find((e) => e.event === 'log' && e.server === server && e.msg === 'shutdown complete')

describe('three servers in one process (Express on the ESM build, node:http on the CommonJS build, Fastify)', () => {
  it('drains all three on one SIGTERM, runs every hook and exits once, after the last', async () => {
    const child = await startChild(
      'express',
      { drainDelayMs: 300, timeoutMs: 3000, hookMs: 200 },
      'three-servers.mjs',
    )
    // One request in flight on each server when the signal arrives.
    const inFlight = child.ports.map((port) => get(port, '/work', false))
    await Promise.all(
      SERVERS.map((server) => child.waitFor((e) => e.event === 'request' && e.server === server)),
    )
    child.kill('SIGTERM')
    expect((await Promise.all(inFlight)).map((res) => res.body)).toEqual(
      SERVERS.map((server) => JSON.stringify({ server })),
    )
    expect(await child.exited).toBe(0)
    const { events } = child
    expect(events.filter((e) => e.event === 'not-ready').map((e) => e.server)).toEqual(SERVERS)
    expect(
      events
        .filter((e) => e.event === 'hook-end')
        .map((e) => e.server)
        .sort(),
    ).toEqual([...SERVERS].sort())
    expect(
      SERVERS.map((server) => {
        const complete = completeOf(events, server)
        return { result: complete?.result, exitCode: complete?.exitCode }
      }),
    ).toEqual(SERVERS.map(() => ({ result: 'drained', exitCode: 0 })))
    // The process exited once, after every server had completed.
    expect(events.filter((e) => e.event === 'exit')).toEqual([{ event: 'exit', code: 0 }])
    const exitAt = indexOf(events, (e) => e.event === 'exit')
    expect(exitAt).toBeGreaterThan(lastIndexOf(events, (e) => e.msg === 'shutdown complete'))
    expect(exitAt).toBeGreaterThan(lastIndexOf(events, (e) => e.event === 'hook-end'))
  })

  it('exits with the worst exit code: 1 when one server ran into its deadline', async () => {
    const child = await startChild(
      'express',
      { drainDelayMs: 200, timeoutMs: 1000, hookMs: 0 },
      'three-servers.mjs',
    )
    const hanging = get(child.ports[1]!, '/hang', false).catch((err: Error) => err.message)
    await child.waitFor((e) => e.event === 'request' && e.server === 'admin')
    child.kill('SIGTERM')
    expect(await child.exited).toBe(1)
    expect(await hanging).toBe('socket hang up')
    const { events } = child
    expect(SERVERS.map((server) => completeOf(events, server)?.result)).toEqual([
      'drained',
      'timed_out',
      'drained',
    ])
    expect(events.filter((e) => e.event === 'hook-end').length).toBe(3)
    expect(events.filter((e) => e.event === 'exit')).toEqual([{ event: 'exit', code: 1 }])
  })

  it('exits at once with 143 on a second SIGTERM, for all three', async () => {
    const child = await startChild(
      'express',
      { drainDelayMs: 5000, timeoutMs: 10_000 },
      'three-servers.mjs',
    )
    child.kill('SIGTERM')
    await child.waitFor((e) => e.event === 'not-ready' && e.server === 'fastify')
    child.kill('SIGTERM')
    expect(await child.exited).toBe(143)
    expect(SERVERS.map((server) => completeOf(child.events, server)?.result)).toEqual(
      SERVERS.map(() => 'forced'),
    )
  })
})
