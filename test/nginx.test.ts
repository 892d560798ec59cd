import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needBinary } from './support/binaries.js'
import { type ExampleProcess, type Framework, startExample } from './support/example-process.js'
import {
  createPaymentsUpstream,
  formatPhases,
  type Load,
  type PhaseStats,
  renderNginxConfig,
  startLoad,
} from './support/example-modules.js'
import { closedPort } from './support/ports.js'
import { needService, SERVICES } from './support/services.js'

// nginx (examples/nginx/nginx.conf.template) in front of three instances of
// the example, two Express and one Fastify, sharing sessions in Redis, under
// a steady load through nginx: a rolling restart with SIGTERM, then a SIGKILL.

const redisUp = await needService('redis')
const nginxFound = needBinary('nginx')

/** Workers sending requests back to back through nginx. */
const CONCURRENCY = 4
const FRAMEWORKS: Framework[] = ['express', 'fastify', 'express']
const SECRET = 'e2e-nginx-session-secret-0123456789abcdef'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(what: string, withinMs: number, test: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + withinMs
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${withinMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

describe.runIf(redisUp && nginxFound)('nginx in front of three instances', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'uptimekit-nginx-'))
  const instances: ExampleProcess[] = []
  const ports: number[] = []
  const generation = [0, 0, 0]
  const upstream = createPaymentsUpstream()
  let nginxUrl = ''
  let paymentsUrl = ''
  let cookie = ''
  let load: Load | undefined
  let stopNginx = async (): Promise<void> => {}
  const phaseStats = (name: string): PhaseStats => load!.stats().find((s) => s.phase === name)!

  const instanceId = (i: number): string => `${FRAMEWORKS[i]}-${i}-gen${generation[i]}`
  const start = (i: number): Promise<ExampleProcess> =>
    startExample(FRAMEWORKS[i]!, ports[i]!, {
      NODE_ENV: 'test',
      INSTANCE_ID: instanceId(i),
      SESSION_STORE: 'redis',
      REDIS_URL: SERVICES.redis.url,
      SESSION_SECRET: SECRET,
      SESSION_PREFIX: `e2e-nginx-${process.pid}:`,
      PAYMENTS_URL: paymentsUrl,
      DRAIN_DELAY_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '5000',
    })

  const profile = async (): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${nginxUrl}/api/profile`, { headers: { cookie } })
    return { status: res.status, body: await res.json() }
  }

  beforeAll(async () => {
    chmodSync(prefix, 0o755) // nginx workers run as an unprivileged user
    paymentsUrl = await upstream.listen(0, '127.0.0.1')
    for (let i = 0; i < 3; i++) ports.push(await closedPort())
    instances.push(...(await Promise.all([0, 1, 2].map(start))))

    const listen = await closedPort()
    const config = renderNginxConfig({
      listen: `127.0.0.1:${listen}`,
      instances: ports.map((port) => `127.0.0.1:${port}`),
      prefix,
      maintenancePort: await closedPort(),
    })
    writeFileSync(join(prefix, 'nginx.conf'), config)
    const nginx = spawn(
      'nginx',
      [
        '-p',
        prefix,
        '-e',
        join(prefix, 'error.log'),
        '-c',
        join(prefix, 'nginx.conf'),
        '-g',
        'daemon off;',
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    )
    const nginxExited = once(nginx, 'exit')
    stopNginx = async () => {
      // SIGQUIT: a graceful stop, so the master takes its workers with it.
      if (nginx.exitCode === null && nginx.signalCode === null) nginx.kill('SIGQUIT')
      await nginxExited
    }
    nginxUrl = `http://127.0.0.1:${listen}`
    await waitFor('nginx to answer', 10_000, () =>
      fetch(`${nginxUrl}/live`).then(
        (res) => res.status === 200,
        () => false,
      ),
    )

    const login = await fetch(`${nginxUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'grace', password: 'cobol-1959' }),
    })
    expect(login.status).toBe(200)
    cookie = login.headers.get('set-cookie')!.split(';')[0]!

    load = startLoad({
      baseUrl: nginxUrl,
      concurrency: CONCURRENCY,
      pauseMs: 5,
      phase: 'steady',
      next: (n) => {
        if (n % 10 === 9) {
          return {
            method: 'POST',
            path: '/api/payments',
            body: { amount: 100 + n, currency: 'EUR' },
            expect: [201],
          }
        }
        if (n % 2 === 0)
          return { method: 'GET', path: '/api/profile', headers: { cookie }, expect: [200] }
        return { method: 'GET', path: `/api/users/${1 + (n % 3)}`, expect: [200] }
      },
    })
    await sleep(1500)
  }, 60_000)

  afterAll(async () => {
    const stats = await load?.stop()
    await Promise.all(instances.map((instance) => instance.stop('SIGKILL')))
    await stopNginx()
    await upstream.close()
    if (stats !== undefined) {
      // nginx logs every instance it tried for a request: two addresses mean a retry.
      const access = readFileSync(join(prefix, 'access.log'), 'utf8').split('\n')
      const retried = access.filter((line) => /upstream=\S+, /.test(line)).length
      console.log(
        `\nnginx end-to-end, ${CONCURRENCY} workers; nginx retried ${retried} requests on another instance:\n${formatPhases(stats)}\n`,
      )
    }
    rmSync(prefix, { recursive: true, force: true })
  })

  it('spreads the load over the three instances with no failed request', () => {
    const steady = phaseStats('steady')
    expect(steady.failed).toBe(0)
    expect(Object.keys(steady.servedBy).sort()).toEqual([0, 1, 2].map(instanceId).sort())
  })

  it('loses no request while each instance in turn gets SIGTERM and is replaced', async () => {
    load!.phase('rolling restart')
    for (let i = 0; i < 3; i++) {
      const exit = await instances[i]!.stop('SIGTERM')
      expect(exit).toEqual({ code: 0, signal: null })
      expect(instances[i]!.output()).toContain('"result":"drained"')
      generation[i]!++
      instances[i] = await start(i)
      // nginx has no active health checks: it takes the replacement back
      // after fail_timeout. Stopping the next one before that would leave
      // two of three out of rotation.
      await waitFor(`nginx to route to ${instanceId(i)}`, 20_000, () =>
        Object.hasOwn(phaseStats('rolling restart').servedBy, instanceId(i)),
      )
    }
    load!.phase('after restart')
    await sleep(1000)
    const rolling = phaseStats('rolling restart')
    expect(rolling.failures).toEqual([])
    expect(rolling.failed).toBe(0)
    expect(phaseStats('after restart').failed).toBe(0)
    expect(await profile()).toMatchObject({ status: 200, body: { user: { username: 'grace' } } })
  }, 90_000)

  it('routes around a SIGKILLed instance, failing at most the POSTs it had in flight', async () => {
    // The requests in flight at the kill belong to this phase.
    load!.phase('SIGKILL')
    await sleep(500)
    const killed = instanceId(1)
    expect(phaseStats('SIGKILL').servedBy[killed]).toBeGreaterThan(0)
    const exit = await instances[1]!.stop('SIGKILL')
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' })
    await sleep(1000)
    load!.phase('after SIGKILL')
    await sleep(1500)

    // proxy_next_upstream error timeout: an idempotent request that was in
    // flight is retried on the next instance; a POST already sent is not.
    const kill = phaseStats('SIGKILL')
    expect(kill.failed).toBeLessThanOrEqual(CONCURRENCY)
    for (const failure of kill.failures) expect(failure).toMatch(/^POST \/api\/payments -> 502/)
    const after = phaseStats('after SIGKILL')
    expect(after.failed).toBe(0)
    expect(after.sent).toBeGreaterThan(0)
    expect(Object.hasOwn(after.servedBy, killed)).toBe(false)
    expect(await profile()).toMatchObject({ status: 200, body: { user: { username: 'grace' } } })
  }, 30_000)

  it('keeps the session from before both, since it lives in Redis', async () => {
    const answer = await profile()
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      user: { id: 2, username: 'grace', name: 'Grace Hopper', email: 'grace@example.com' },
      loginAt: expect.any(String),
    })
  })

  it('answers from the backup server once every instance is down', async () => {
    await load!.stop()
    await Promise.all(instances.map((instance) => instance.stop('SIGTERM')))
    const res = await fetch(`${nginxUrl}/api/users/1`)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(await res.json()).toEqual({ error: 'every instance is down; try again shortly' })
    expect(readFileSync(join(prefix, 'error.log'), 'utf8')).not.toContain('[emerg]')
  })
})
