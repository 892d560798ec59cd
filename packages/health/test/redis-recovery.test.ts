import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Redis } from 'ioredis'
import { createHealth } from '../src/health.js'
import { redisCheck } from '../src/checks/redis.js'
import { closedPort } from '../../../test/support/ports.js'
import { ADAPTERS } from './servers.js'

async function startRedisServer(port: number): Promise<void> {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  onTestFinished(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM')
      await once(server, 'exit')
    }
  })
  let output = ''
  for await (const chunk of server.stdout) {
    output += String(chunk)
    if (output.includes('Ready to accept connections')) return
  }
  throw new Error(`redis-server exited: ${output}`)
}

describe.each(ADAPTERS)('scenario 3, %s: Redis at a closed port, then back', (_name, start) => {
  it('keeps /live 200, answers /ready and /health 503, and recovers within cacheMs plus one check', async () => {
    const port = await closedPort()
    const redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 500 })
    redis.on('error', () => {})
    onTestFinished(() => redis.disconnect())
    const cacheMs = 300
    const url = await start(
      createHealth({ checks: { redis: redisCheck(redis) }, cacheMs, timeoutMs: 1000 }),
    )
    await new Promise((resolve) => redis.once('reconnecting', resolve))

    expect((await fetch(`${url}/live`)).status).toBe(200)
    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({
      status: 'not_ready',
      reason: 'critical checks failing',
      checks: { redis: { status: 'fail', critical: true, failure: 'error' } },
    })
    expect((await fetch(`${url}/health`)).status).toBe(503)
    expect((await fetch(`${url}/live`)).status).toBe(200)

    await startRedisServer(port)
    await new Promise((resolve) => redis.once('ready', resolve))
    await new Promise((resolve) => setTimeout(resolve, cacheMs))
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    expect(await (await fetch(`${url}/health`)).json()).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      checks: { redis: { status: 'pass', critical: true } },
    })
  })
})
