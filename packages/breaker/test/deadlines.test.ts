import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadlines } from '../src/deadlines.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('Deadlines', () => {
  it('runs one timer for calls admitted together, and fires each deadline on time', () => {
    const d = new Deadlines(100)
    const fired: string[] = []
    for (const name of ['a', 'b', 'c']) d.add(() => fired.push(name))
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(99)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired).toEqual(['a', 'b', 'c'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('fires later deadlines in order, each after its own timeout, never early', () => {
    const d = new Deadlines(100)
    const fired: Array<[string, number]> = []
    d.add(() => fired.push(['a', performance.now()]))
    vi.advanceTimersByTime(30)
    d.add(() => fired.push(['b', performance.now()]))
    vi.advanceTimersByTime(1)
    d.add(() => fired.push(['c', performance.now()]))
    vi.advanceTimersByTime(200)
    expect(fired).toEqual([
      ['a', 100],
      ['b', 130],
      ['c', 131],
    ])
  })

  it('drops a cancelled deadline, unrefs the timer once nothing is pending, and stops it when due', () => {
    const d = new Deadlines(100)
    const timer = () => d['timer']
    const fired: string[] = []
    const cancelA = d.add(() => fired.push('a'))
    vi.advanceTimersByTime(10)
    const cancelB = d.add(() => fired.push('b'))
    cancelA()
    cancelA()
    expect(timer()?.hasRef()).toBe(true)
    cancelB()
    // Idle: nothing keeps the process up, and the next call reuses the timer.
    expect(timer()?.hasRef()).toBe(false)
    vi.advanceTimersByTime(100)
    expect(vi.getTimerCount()).toBe(0)
    d.add(() => fired.push('c'))
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(['c'])
  })

  it('shares one timer across calls made one at a time, each deadline still on time', () => {
    const d = new Deadlines(100)
    const fired: Array<[string, number]> = []
    const kept = d.add(() => fired.push(['a', performance.now()]))
    const first = d['timer']
    kept()
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(1)
      d.add(() => fired.push([`call ${i}`, performance.now()]))()
    }
    expect(d['timer']).toBe(first)
    expect(vi.getTimerCount()).toBe(1)
    d.add(() => fired.push(['late', performance.now()]))
    expect(d['timer']?.hasRef()).toBe(true)
    // The kept timer is due at 100; the pending deadline at 150 is re-armed from it, not early.
    vi.advanceTimersByTime(99)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(100)
    expect(fired).toEqual([['late', 150]])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps a deadline added by a callback that fires', () => {
    const d = new Deadlines(50)
    const fired: string[] = []
    d.add(() => {
      fired.push('a')
      d.add(() => fired.push('b'))
    })
    vi.advanceTimersByTime(50)
    expect([fired, vi.getTimerCount()]).toEqual([['a'], 1])
    vi.advanceTimersByTime(50)
    expect([fired, vi.getTimerCount()]).toEqual([['a', 'b'], 0])
  })
})
