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
    const rows = [...output.matchAll(/^ {3}\| ([\w ]+) \| (\d+) \| (\d+) \|/gm)]
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
