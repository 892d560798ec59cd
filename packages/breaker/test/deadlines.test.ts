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

  it('drops a cancelled deadline and stops the timer once nothing is pending', () => {
    const d = new Deadlines(100)
    const fired: string[] = []
    const cancelA = d.add(() => fired.push('a'))
    vi.advanceTimersByTime(10)
    const cancelB = d.add(() => fired.push('b'))
    cancelA()
    cancelA()
    expect(vi.getTimerCount()).toBe(1)
    cancelB()
    expect(vi.getTimerCount()).toBe(0)
    d.add(() => fired.push('c'))
    vi.advanceTimersByTime(100)
    expect(fired).toEqual(['c'])
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
