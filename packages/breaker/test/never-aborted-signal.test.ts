import { getEventListeners, setMaxListeners } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { retry } from '../src/retry.js'

/** The signal `execute()` hands a call that has no caller signal and no call timeout. */
async function sharedSignal(name: string): Promise<AbortSignal> {
  let seen: AbortSignal | undefined
  await new CircuitBreaker({ name, callTimeoutMs: Infinity }).execute((signal) => {
    seen = signal
  })
  if (seen === undefined) throw new Error('execute() did not call fn')
  return seen
}

describe('the shared never-aborting signal', () => {
  it('is one signal for every breaker and retry(), never aborted', async () => {
    const a = await sharedSignal('a')
    let fromRetry: AbortSignal | undefined
    await retry((signal) => {
      fromRetry = signal
      return Promise.resolve()
    })
    expect(await sharedSignal('b')).toBe(a)
    expect(fromRetry).toBe(a)
    expect(a).toBeInstanceOf(AbortSignal)
    expect([a.aborted, a.reason]).toEqual([false, undefined])
    expect(() => a.throwIfAborted()).not.toThrow()
  })

  it('keeps no listener, handler or property one caller could leave for the next', async () => {
    const signal = await sharedSignal('a')
    const keysBefore = Reflect.ownKeys(signal)
    let ran = 0
    signal.addEventListener('abort', () => ran++)
    signal.onabort = () => ran++
    signal.dispatchEvent(new Event('abort'))
    setMaxListeners(5, signal)
    expect(ran).toBe(0)
    expect(signal.onabort).toBe(null)
    expect(getEventListeners(signal, 'abort')).toEqual([])
    expect(() => Object.assign(signal, { leaked: true })).toThrow(TypeError)
    expect(() => Object.assign(signal, { addEventListener: () => {} })).toThrow(TypeError)
    expect(Reflect.ownKeys(signal)).toEqual(keysBefore)
  })

  it('works with AbortSignal.any without holding the combined signals', async () => {
    const signal = await sharedSignal('a')
    const keysBefore = Reflect.ownKeys(signal)
    const other = new AbortController()
    const combined = AbortSignal.any([signal, other.signal])
    other.abort(new Error('other'))
    expect(combined.aborted).toBe(true)
    expect(signal.aborted).toBe(false)
    expect(Reflect.ownKeys(signal)).toEqual(keysBefore)
  })

  it('carries no listener after concurrent fetch calls through a breaker', async () => {
    const server = createServer((_req, res) => res.end('pong')).listen(0, '127.0.0.1')
    onTestFinished(() => {
      server.closeAllConnections()
      server.close()
    })
    await new Promise((resolve) => server.once('listening', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    const breaker = new CircuitBreaker({ name: 'pinger', callTimeoutMs: Infinity })
    const signals = new Set<AbortSignal>()
    const bodies = await Promise.all(
      Array.from({ length: 20 }, () =>
        breaker.execute(async (signal) => {
          signals.add(signal)
          return (await fetch(url, { signal })).text()
        }),
      ),
    )
    expect(bodies).toEqual(Array.from({ length: 20 }, () => 'pong'))
    expect([...signals]).toEqual([await sharedSignal('a')])
    expect(getEventListeners([...signals][0]!, 'abort')).toEqual([])
  })
})
