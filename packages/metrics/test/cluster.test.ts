import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { getFresh as get } from './http-get.js'
import { valueOf } from './prom-text.js'

const fixture = fileURLToPath(new URL('./fixtures/cluster.mjs', import.meta.url))

describe('node:cluster aggregation', () => {
  it("sums the workers' request metrics on the primary", async () => {
    const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] })
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
    })
    const [line] = (await once(child.stdout, 'data')) as [Buffer]
    const { appPort, metricsPort } = JSON.parse(line.toString()) as Record<string, number>
    const pids = new Set<number>()
    for (let i = 0; i < 20; i++) {
      const body = JSON.parse(await get(`http://127.0.0.1:${appPort}/users/${i}`)) as {
        pid: number
      }
      pids.add(body.pid)
    }
    const text = await get(`http://127.0.0.1:${metricsPort}/metrics`)
    const labels = { method: 'GET', route: '/users/:id', status_code: '200' }
    expect(pids.size).toBe(2)
    expect(valueOf(text, 'http_requests_total', labels)).toBe(20)
    expect(valueOf(text, 'http_request_duration_seconds_count', labels)).toBe(20)
    expect(valueOf(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(
      20,
    )
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })
})
