// The gateway example: `npx tsx examples/gateway/src/main.ts` starts three instances of the
// Express example service on 127.0.0.1:3001-3003 and a gateway on :8080 in front of them, as
// examples/nginx does with nginx. `UPSTREAMS=http://10.0.0.1:3000,...` fronts instances of your
// own instead; `STRATEGY=round-robin` (or any other) changes the strategy.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { Registry } from 'prom-client'
import { createBalancer, STRATEGIES, type Strategy } from '@uptimekit/balancer'
import { proxyHandler } from '@uptimekit/balancer/express'
import { observeBalancer } from '@uptimekit/metrics'

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const strategy = (process.env.STRATEGY ?? 'least-response-time') as Strategy
if (!STRATEGIES.includes(strategy)) {
  process.stderr.write(`STRATEGY must be one of ${STRATEGIES.join(', ')} (got ${strategy})\n`)
  process.exit(1)
}

const instances: ChildProcess[] = []
const service = fileURLToPath(new URL('../../express/src/main.ts', import.meta.url))

/** Starts one example instance and resolves once its /ready answers 200. */
async function startInstance(instancePort: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', service], {
    env: {
      ...process.env,
      PORT: String(instancePort),
      HOST: '127.0.0.1',
      INSTANCE_ID: `app-${instancePort}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  instances.push(child)
  const url = `http://127.0.0.1:${instancePort}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/ready`).then(
      (res) => res.ok,
      () => false,
    )
    if (ready) return url
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`instance on ${instancePort} did not become ready in 30 s`)
}

const upstreams =
  process.env.UPSTREAMS?.split(',').filter((url) => url !== '') ??
  (await Promise.all([3001, 3002, 3003].map(startInstance)))

// The instances' /ready turns 503 when they start draining, so a rolling restart takes each one
// out before it closes; passive health and retries cover a crash between two checks.
const balancer = createBalancer({
  upstreams,
  strategy,
  active: { path: '/ready', intervalMs: 1000, timeoutMs: 500, fails: 1, passes: 2 },
  passive: { maxFails: 3, failTimeoutMs: 10_000 },
  slowStartMs: 10_000,
  retries: 2,
})
const registry = new Registry()
observeBalancer(balancer, { registry, name: 'gateway' })

const app = express()
app.get('/gateway/upstreams', (_req, res) => {
  res.json(balancer.snapshot())
})
app.get('/gateway/metrics', async (_req, res) => {
  res.type(registry.contentType).send(await registry.metrics())
})
app.use(proxyHandler(balancer))

const server = app.listen(port, host, () => {
  console.log(`gateway on http://${host}:${port} (${strategy}) in front of ${upstreams.join(', ')}`)
  console.log(`  upstream states: curl http://${host}:${port}/gateway/upstreams`)
  console.log(`  metrics:         curl http://${host}:${port}/gateway/metrics`)
})

let stopping = false
const stop = (): void => {
  if (stopping) process.exit(1)
  stopping = true
  server.close()
  server.closeIdleConnections()
  void balancer.close().then(() => {
    for (const child of instances) child.kill('SIGTERM')
  })
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
