import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { isHookTimeoutError } from '../src/errors.js'
import type { ShutdownOptions } from '../src/options.js'
import { createShutdown } from '../src/shutdown.js'
import { recordLogs } from './log-recorder.js'

async function listening(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.end('ok'))
  onTestFinished(() => void server.close())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** Options for a shutdown started from code that neither exits nor logs anywhere visible. */
const quietly = (): ShutdownOptions => ({
  signals: [],
  exit: false,
  drainDelayMs: 0,
  logger: recordLogs().logger,
})

describe('createShutdown with exit off', () => {
  it('resolves shutdown() with the outcome, hooks in order, and closes the listener', async () => {
    const { server } = await listening()
    const { logger, lines } = recordLogs()
    const notReady: string[] = []
    const shutdown = createShutdown(server, {
      signals: [],
      exit: false,
      drainDelayMs: 0,
      timeoutMs: 1000,
      logger,
      readiness: { markNotReady: (reason) => notReady.push(reason) },
    })
    const ran: string[] = []
    shutdown.onClose('db', () => void ran.push('db'))
    shutdown.onClose('cache', async () => {
      await sleep(5)
      ran.push('cache')
    })
    expect(shutdown.isShuttingDown).toBe(false)
    const first = shutdown.shutdown('deploy')
    expect(shutdown.shutdown('again')).toBe(first)
    expect(shutdown.isShuttingDown).toBe(true)
    expect(notReady).toEqual(['deploy'])
    const outcome = await first
    expect(outcome).toEqual({
      reason: 'deploy',
      result: 'drained',
      exitCode: 0,
      destroyedConnections: 0,
      hooks: [
        { name: 'db', status: 'ok', durationMs: expect.any(Number) },
        { name: 'cache', status: 'ok', durationMs: expect.any(Number) },
      ],
      durationMs: expect.any(Number),
    })
    expect(ran).toEqual(['db', 'cache'])
    expect(server.listening).toBe(false)
    expect(lines.map(([level, msg]) => `${level} ${msg}`)).toEqual([
      'info shutdown started',
      'info listener closed, draining connections',
      'info connections drained',
      'info close hook done',
      'info close hook done',
      'info shutdown complete',
    ])
  })

  it('runs no hook that was unsubscribed', async () => {
    const { server } = await listening()
    const shutdown = createShutdown(server, quietly())
    const off = shutdown.onClose('gone', () => {})
    shutdown.onClose('kept', () => {})
    off()
    expect((await shutdown.shutdown()).hooks.map((h) => h.name)).toEqual(['kept'])
  })

  it('aborts a hook past its timeout with a HookTimeoutError and runs the next one', async () => {
    const { server } = await listening()
    const shutdown = createShutdown(server, quietly())
    let reason: unknown
    shutdown.onClose(
      'stuck',
      (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            reason = signal.reason
            resolve()
          }),
        ),
      { timeoutMs: 50 },
    )
    shutdown.onClose('next', () => {})
    const { hooks } = await shutdown.shutdown()
    expect(isHookTimeoutError(reason)).toBe(true)
    expect(hooks.map(({ name, status, error }) => ({ name, status, error }))).toEqual([
      { name: 'stuck', status: 'timed_out', error: 'close hook "stuck" timed out after 50 ms' },
      { name: 'next', status: 'ok', error: undefined },
    ])
  })

  it('listens to its signals only until it is done or disposed', async () => {
    const before = process.listenerCount('SIGUSR2')
    const { server } = await listening()
    const disposed = createShutdown(server, { ...quietly(), signals: ['SIGUSR2'] })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    disposed.dispose()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
    await expect(disposed.shutdown()).rejects.toMatchObject({ code: 'UPTIMEKIT_SHUTDOWN_DISPOSED' })
    const done = createShutdown(server, { ...quietly(), signals: ['SIGUSR2'] })
    await done.shutdown()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })

  it('resolves as forced on a signal during shutdown, running no further hook', async () => {
    const { server } = await listening()
    const { logger, lines } = recordLogs()
    const shutdown = createShutdown(server, { ...quietly(), signals: ['SIGUSR2'], logger })
    const started: string[] = []
    shutdown.onClose('slow', async (signal) => {
      started.push('slow')
      process.kill(process.pid, 'SIGUSR2')
      await sleep(10_000, undefined, { signal }).catch(() => {})
    })
    shutdown.onClose('after', () => void started.push('after'))
    const outcome = await shutdown.shutdown('deploy')
    expect(outcome).toMatchObject({
      reason: 'SIGUSR2',
      result: 'forced',
      exitCode: 128 + 12,
      hooks: [],
    })
    await sleep(20)
    expect(started).toEqual(['slow'])
    expect(lines.find(([, msg]) => msg === 'second signal, exiting now')).toEqual([
      'warn',
      'second signal, exiting now',
      { signal: 'SIGUSR2', exitCode: 140 },
    ])
  })

  it('answers requests during the drain delay, with Connection: close', async () => {
    const { server, url } = await listening()
    // The last fifth is the quiet window, in which responses stop saying close.
    const shutdown = createShutdown(server, { ...quietly(), drainDelayMs: 1500, timeoutMs: 3000 })
    const done = shutdown.shutdown()
    await sleep(100)
    const res = await fetch(url)
    expect({
      status: res.status,
      connection: res.headers.get('connection'),
      body: await res.text(),
    }).toEqual({
      status: 200,
      connection: 'close',
      body: 'ok',
    })
    expect((await done).result).toBe('drained')
  })
})
