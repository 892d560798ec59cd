import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { TSX_LOADER } from './support/example-process.js'

// `pnpm demo:tour` runs to the end: the breakers open and close, and the
// SIGTERM under load loses no request (the tour exits 1 if one is lost).
// The Fastify service's SIGTERM is covered by examples.test.ts and nginx.test.ts.

const tour = fileURLToPath(new URL('../examples/express/src/tour.ts', import.meta.url))

describe('the guided tour', () => {
  it('runs every step and loses no request', async () => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, tour], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000)
    const [code] = (await once(child, 'exit')) as [number | null]
    clearTimeout(timer)
    expect(output).toContain(
      'circuit breaker state changed {"breaker":"payments","from":"closed","to":"open"}',
    )
    expect(output).toContain(
      'GET /health: degraded, failing: payments (non-critical), paymentsBreaker (non-critical)',
    )
    expect(output).toContain('both breakers closed')
    expect(output).toContain('instance-a exited with code 0')
    expect(output).toContain('zero lost requests')
    const rows = [...output.matchAll(/^ {3}\| ([\w ]+) \| (\d+) \| (\d+) \| ([^|]*) \|/gm)]
    // Every phase but the last prints a live line whose statuses add up to its count, and which
    // the summary's row for that phase does not contradict (it may hold answers that came later).
    const live = [...output.matchAll(/^ {3}(\d+) requests, (\d+) lost or unexpected \(([^)]*)\)/gm)]
    const total = (statuses: string) =>
      statuses
        .trim()
        .split(' ')
        .filter((part) => part !== '')
        .reduce((sum, part) => sum + Number(part.split('×')[1]), 0)
    expect(live).toHaveLength(5)
    live.forEach((line, i) => {
      expect(total(line[3]!)).toBe(Number(line[1]))
      expect(Number(line[1])).toBeGreaterThan(0)
      expect(Number(line[1])).toBeLessThanOrEqual(Number(rows[i]![2]))
      expect(line[2]).toBe(rows[i]![3])
    })
    for (const row of rows) expect(total(row[4]!)).toBe(Number(row[2]))
    expect(rows.map((row) => [row[1], row[3]])).toEqual([
      ['steady', '0'],
      ['upstream failing', '0'],
      ['recovering', '0'],
      ['recovered', '0'],
      ['SIGTERM', '0'],
      ['after the replacement', '0'],
    ])
    expect(code).toBe(0)
  }, 90_000)
})
