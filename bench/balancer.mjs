// @uptimekit/balancer side by side with undici's Pool and BalancedPool, in one run:
//   1. dispatcher cost: closed-loop req/s to one upstream, and the cost of one pick per strategy;
//   2. tail latency: three capacity-limited upstreams, one 10x slower (then one answering fast
//      503s), open-loop load at a fixed rate, latency from each request's scheduled send time;
//   3. failure: one upstream hard-down; every upstream down, then back (undici#4839).
// The upstreams run in a child process, so the client's CPU is the balancer's alone.
// Run: pnpm --filter @uptimekit/balancer build && flock /tmp/uptimekit-bench.lock node bench/balancer.mjs
import { fork, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

if (process.argv[2] === '--upstreams') {
  // The child: servers whose behaviour the parent sets. `serviceMs` per request, at most
  // `concurrency` at once (the rest wait in line), so an upstream has a capacity.
  const servers = []
  let ports = []
  const counts = new Map()
  const start = (spec, port = 0) =>
    new Promise((resolve) => {
      let running = 0
      const queue = []
      const next = () => {
        while (running < spec.concurrency && queue.length > 0) {
          const res = queue.shift()
          running++
          setTimeout(() => {
            running--
            res.end('ok')
            next()
          }, spec.serviceMs)
        }
      }
      let own = port
      const server = createServer((req, res) => {
        counts.set(own, (counts.get(own) ?? 0) + 1)
        if (spec.mode === '503') {
          res.writeHead(503).end('busy')
          return
        }
        if (spec.serviceMs === 0) {
          // The dispatcher-cost upstream answers at once: no timer tick in the measurement.
          res.end('ok')
          return
        }
        queue.push(res)
        next()
      })
      server.keepAliveTimeout = 60_000
      server.listen(port, '127.0.0.1', () => {
        own = server.address().port
        resolve(server)
      })
    })
  process.on('message', async (message) => {
    if (message.cmd === 'start') {
      for (const s of servers.splice(0)) (s.closeAllConnections(), s.close())
      for (const spec of message.specs) servers.push(await start(spec))
      ports = servers.map((s) => s.address().port)
      process.send({ ports })
    } else if (message.cmd === 'stop') {
      for (const s of servers.splice(0)) (s.closeAllConnections(), s.close())
      process.send({ stopped: true })
    } else if (message.cmd === 'restart') {
      for (const [i, spec] of message.specs.entries()) servers.push(await start(spec, ports[i]))
      process.send({ ports })
    } else if (message.cmd === 'stopOne') {
      // A graceful stop, as a rolling restart does: no new connection, in-flight requests end.
      const server = servers[message.index]
      server.close()
      server.closeIdleConnections()
      process.send({ stopped: message.index })
    } else if (message.cmd === 'startOne') {
      servers[message.index] = await start(message.spec, ports[message.index])
      process.send({ started: message.index })
    } else if (message.cmd === 'counts') {
      process.send({ counts: ports.map((port) => counts.get(port) ?? 0) })
      counts.clear()
    } else if (message.cmd === 'exit') {
      process.exit(0)
    }
  })
} else {
  await main()
}

async function main() {
  const { createBalancer, STRATEGIES } = await import('../packages/balancer/dist/index.mjs')
  const undici = await import('../packages/balancer/node_modules/undici/index.js')
  const { Pool, BalancedPool, request } = undici

  // BENCH_QUICK=1: a short run that only checks the benchmark itself works.
  const quick = process.env.BENCH_QUICK === '1'
  // BENCH_ONLY=cost|tail|failure|nginx: one section.
  const runs = (section) =>
    process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY === section
  const child = fork(here, ['--upstreams'], { stdio: 'inherit' })
  const ask = (message) =>
    new Promise((resolve) => {
      child.once('message', resolve)
      child.send(message)
    })
  const urlsOf = ({ ports }) => ports.map((port) => `http://127.0.0.1:${port}`)
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const pct = (sorted, p) =>
    sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
  const f = (n, digits = 1) => n.toFixed(digits)

  console.log(
    `# @uptimekit/balancer benchmark, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )

  // 1. Dispatcher cost.
  if (runs('cost')) {
    const [url] = urlsOf(await ask({ cmd: 'start', specs: [{ serviceMs: 0, concurrency: 1e9 }] }))
    const variants = {
      'undici Pool': () => new Pool(url),
      'undici BalancedPool': () => new BalancedPool([url]),
      '@uptimekit/balancer': () => createBalancer({ upstreams: [url], logger: false }),
    }
    const totals = Object.fromEntries(Object.keys(variants).map((k) => [k, 0]))
    const rounds = quick ? 1 : 5
    const seconds = quick ? 0.3 : 2
    for (let round = 0; round < rounds; round++) {
      for (const [name, make] of Object.entries(variants)) {
        const dispatcher = make()
        let done = 0
        let stop = false
        const worker = async () => {
          while (!stop) {
            const res = await request(`${url}/`, { dispatcher })
            await res.body.dump()
            done++
          }
        }
        const workers = Array.from({ length: 32 }, worker)
        await sleep(300)
        const from = done
        const t = performance.now()
        await sleep(seconds * 1000)
        const rate = ((done - from) * 1000) / (performance.now() - t)
        stop = true
        await Promise.all(workers)
        await dispatcher.close()
        totals[name] += rate
      }
    }
    console.log(
      '\n## Dispatcher cost: one upstream, 32 requests in flight, undici.request, mean of 5 x 2 s\n',
    )
    console.log('| dispatcher | req/s | vs Pool |')
    console.log('|---|---:|---:|')
    const base = totals['undici Pool'] / rounds
    for (const [name, total] of Object.entries(totals)) {
      console.log(`| ${name} | ${f(total / rounds, 0)} | ${f(total / rounds / base, 2)}x |`)
    }
  }

  // Pick cost: the choice alone (refresh, strategy, breaker check), no I/O.
  if (runs('cost')) {
    console.log('\n## Pick cost: one choice among 3 upstreams, 1e6 picks after 1e5 warm-up\n')
    console.log('| strategy | ns per pick |')
    console.log('|---|---:|')
    const request = { hashKey: () => 'user-42', permit: undefined }
    for (const strategy of STRATEGIES) {
      const balancer = createBalancer({
        strategy,
        logger: false,
        upstreams: [
          'http://10.0.0.1:1',
          { url: 'http://10.0.0.2:1', weight: 2 },
          'http://10.0.0.3:1',
        ],
      })
      const picks = quick ? 1e4 : 1e6
      for (let i = 0; i < picks / 10; i++) balancer.choose(request, undefined)
      const t = process.hrtime.bigint()
      for (let i = 0; i < picks; i++) balancer.choose(request, undefined)
      const ns = Number(process.hrtime.bigint() - t) / picks
      console.log(`| ${strategy} | ${f(ns, 0)} |`)
      await balancer.close()
    }
  }

  /** Open-loop load: `rate` requests per second for `seconds`, latency from the scheduled send. */
  async function openLoop(dispatcher, urls, rate, seconds, onSchedule) {
    const latencies = []
    let errors = 0
    const total = Math.round(rate * seconds)
    const t0 = performance.now() + 20
    const inFlight = []
    const record = []
    let sent = 0
    while (sent < total) {
      const now = performance.now()
      while (sent < total && t0 + (sent * 1000) / rate <= now) {
        const scheduled = t0 + (sent * 1000) / rate
        onSchedule?.(scheduled - t0)
        sent++
        inFlight.push(
          request(`${urls[0]}/`, { dispatcher })
            .then(async (res) => {
              await res.body.dump()
              const at = performance.now()
              record.push([scheduled - t0, res.statusCode < 400])
              if (res.statusCode >= 400) errors++
              latencies.push(at - scheduled)
            })
            .catch(() => {
              record.push([scheduled - t0, false])
              errors++
              latencies.push(performance.now() - scheduled)
            }),
        )
      }
      await sleep(1)
    }
    await Promise.all(inFlight)
    const { counts } = await ask({ cmd: 'counts' })
    latencies.sort((a, b) => a - b)
    return { p50: pct(latencies, 50), p99: pct(latencies, 99), errors, total, counts, record }
  }

  // 2. Tail latency.
  const RATE = 300
  const SECONDS = quick ? 1 : 8
  const fast = { serviceMs: 5, concurrency: 4 }
  // The bad upstream is the third; its share counts the requests it saw (retries included).
  const shareOfBad = ({ counts }) => counts[2] / counts.reduce((a, b) => a + b, 0)
  const strategies = [
    'least-response-time',
    'least-connections',
    'round-robin',
    'weighted-round-robin',
    'random',
    'consistent-hash',
  ]
  for (const [title, bad] of !runs('tail')
    ? []
    : [
        ['one upstream 10x slower (50 ms instead of 5 ms)', { serviceMs: 50, concurrency: 4 }],
        ['one upstream answering 503 at once', { serviceMs: 0, concurrency: 4, mode: '503' }],
      ]) {
    const rows = []
    const healthyUrls = urlsOf(await ask({ cmd: 'start', specs: [fast, fast, fast] }))
    const healthy = createBalancer({ upstreams: healthyUrls, logger: false })
    await ask({ cmd: 'counts' })
    const base = await openLoop(healthy, healthyUrls, RATE, SECONDS)
    await healthy.close()
    rows.push(['least-response-time, all healthy', base, null])
    const urls = urlsOf(await ask({ cmd: 'start', specs: [fast, fast, bad] }))
    await ask({ cmd: 'counts' })
    for (const strategy of strategies) {
      const balancer = createBalancer({ upstreams: urls, strategy, logger: false })
      const result = await openLoop(balancer, urls, RATE, SECONDS)
      await balancer.close()
      rows.push([strategy, result, shareOfBad(result)])
    }
    {
      const pool = new BalancedPool(urls)
      const result = await openLoop(pool, urls, RATE, SECONDS)
      await pool.close()
      rows.push(['undici BalancedPool', result, shareOfBad(result)])
    }
    console.log(
      `\n## Tail latency: ${title}; ${RATE} req/s open loop for ${SECONDS} s, upstream capacity 800/800/80 req/s\n`,
    )
    console.log(
      '| strategy | p50 ms | p99 ms | p99 vs healthy | p99 vs round-robin | share to the bad upstream | client errors |',
    )
    console.log('|---|---:|---:|---:|---:|---:|---:|')
    const rr = rows.find(([name]) => name === 'round-robin')[1]
    for (const [name, r, share] of rows) {
      console.log(
        `| ${name} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.p99 / base.p99, 2)}x | ${f(r.p99 / rr.p99, 2)}x | ${share === null ? 'n/a' : `${f(share * 100)} %`} | ${r.errors} / ${r.total} |`,
      )
    }
  }

  // 3. Failures.
  if (runs('failure')) {
    console.log(
      '\n## Failure: one of three upstreams hard-down (connection refused), GET at 300 req/s for 8 s\n',
    )
    console.log('| dispatcher | client errors | error rate |')
    console.log('|---|---:|---:|')
    const live = urlsOf(await ask({ cmd: 'start', specs: [fast, fast] }))
    const dead = 'http://127.0.0.1:9'
    const urls = [...live, dead]
    for (const [name, make] of [
      [
        '@uptimekit/balancer (least-response-time)',
        () => createBalancer({ upstreams: urls, logger: false }),
      ],
      [
        '@uptimekit/balancer (round-robin)',
        () => createBalancer({ upstreams: urls, strategy: 'round-robin', logger: false }),
      ],
      ['undici BalancedPool', () => new BalancedPool(urls)],
    ]) {
      const dispatcher = make()
      const r = await openLoop(dispatcher, urls, RATE, SECONDS)
      await dispatcher.close()
      console.log(`| ${name} | ${r.errors} / ${r.total} | ${f((r.errors / r.total) * 100, 3)} % |`)
    }
  }
  if (runs('failure')) {
    console.log(
      '\n## Failure: every upstream down for 3 s, then back (undici#4839); GET at 300 req/s\n',
    )
    console.log(
      '| dispatcher | success while down | success 0-2 s after recovery | success 2-4 s after |',
    )
    console.log('|---|---:|---:|---:|')
    for (const [name, make] of [
      ['@uptimekit/balancer', (urls) => createBalancer({ upstreams: urls, logger: false })],
      ['undici BalancedPool', (urls) => new BalancedPool(urls)],
    ]) {
      const urls = urlsOf(await ask({ cmd: 'start', specs: [fast, fast, fast] }))
      const dispatcher = make(urls)
      let phase = 'up'
      const downAt = 1000
      const backAt = 4000
      const r = await openLoop(dispatcher, urls, RATE, quick ? 6 : 8, (t) => {
        if (phase === 'up' && t >= downAt) {
          phase = 'stopping'
          void ask({ cmd: 'stop' }).then(() => (phase = 'down'))
        } else if (phase === 'down' && t >= backAt) {
          phase = 'starting'
          void ask({ cmd: 'restart', specs: [fast, fast, fast] }).then(() => (phase = 'back'))
        }
      })
      await dispatcher.close()
      const share = (from, to) => {
        const inWindow = r.record.filter(([t]) => t >= from && t < to)
        return inWindow.filter(([, ok]) => ok).length / Math.max(1, inWindow.length)
      }
      console.log(
        `| ${name} | ${f(share(downAt + 200, backAt) * 100)} % | ${f(share(backAt, backAt + 2000) * 100)} % | ${f(share(backAt + 2000, backAt + 4000) * 100)} % |`,
      )
    }
  }
  // 4. The gateway (proxyHandler) head to head with real nginx, when nginx is installed.
  const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' })
  if (!runs('nginx')) {
    // Not asked for.
  } else if (nginx.error !== undefined) {
    console.log('\n## Gateway vs nginx: skipped, nginx is not installed')
  } else {
    const { default: express } = await import('express')
    const { proxyHandler } = await import('../packages/balancer/dist/express.mjs')
    const dir = mkdtempSync(join(tmpdir(), 'uptimekit-nginx-'))
    const freePort = () =>
      new Promise((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address()
          probe.close(() => resolve(port))
        })
      })
    const startNginx = async (urls, method) => {
      const port = await freePort()
      const servers = urls
        .map((u) => `    server ${u.slice(7)} max_fails=3 fail_timeout=10s;`)
        .join('\n')
      writeFileSync(
        join(dir, 'nginx.conf'),
        `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app {
    ${method}
    zone app 64k;
${servers}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
    }
  }
}
`,
      )
      const proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' })
      for (let i = 0; i < 100; i++) {
        const up = await request(`http://127.0.0.1:${port}/`).then(
          async (res) => (await res.body.dump(), true),
          () => false,
        )
        if (up) break
        await sleep(50)
      }
      return {
        url: `http://127.0.0.1:${port}`,
        stop: () => new Promise((resolve) => (proc.once('exit', resolve), proc.kill('SIGQUIT'))),
      }
    }
    const startGateway = async (urls, strategy) => {
      const balancer = createBalancer({ upstreams: urls, strategy, retries: 2, logger: false })
      const app = express()
      app.use(proxyHandler(balancer))
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      return {
        url: `http://127.0.0.1:${server.address().port}`,
        stop: async () => {
          server.closeAllConnections()
          await new Promise((resolve) => server.close(resolve))
          await balancer.close()
        },
      }
    }
    const proxies = [
      ['nginx round robin', (urls) => startNginx(urls, '')],
      ['nginx least_conn', (urls) => startNginx(urls, 'least_conn;')],
      ['gateway round-robin', (urls) => startGateway(urls, 'round-robin')],
      ['gateway least-response-time', (urls) => startGateway(urls, 'least-response-time')],
    ]
    console.log(
      `\n## Gateway vs nginx (${nginx.stderr.trim()}): one of three instances 10x slower; ${RATE} req/s open loop for ${SECONDS} s\n`,
    )
    console.log('| proxy | p50 ms | p99 ms | share to the slow instance | client errors |')
    console.log('|---|---:|---:|---:|---:|')
    for (const [name, make] of proxies) {
      const urls = urlsOf(
        await ask({ cmd: 'start', specs: [fast, fast, { serviceMs: 50, concurrency: 4 }] }),
      )
      const proxy = await make(urls)
      const client = new Pool(proxy.url)
      await ask({ cmd: 'counts' })
      const r = await openLoop(client, [proxy.url], RATE, SECONDS)
      await client.close()
      await proxy.stop()
      console.log(
        `| ${name} | ${f(r.p50)} | ${f(r.p99)} | ${f(shareOfBad(r) * 100)} % | ${r.errors} / ${r.total} |`,
      )
    }
    console.log(
      `\n## Gateway vs nginx: rolling restart of three instances (each stopped gracefully for 1 s, one after another) under ${RATE} req/s GET\n`,
    )
    console.log('| proxy | failed requests | p99 ms |')
    console.log('|---|---:|---:|')
    for (const [name, make] of proxies) {
      const urls = urlsOf(await ask({ cmd: 'start', specs: [fast, fast, fast] }))
      const proxy = await make(urls)
      const client = new Pool(proxy.url)
      const steps = [1000, 2000, 3000, 4000, 5000, 6000]
      let step = 0
      const r = await openLoop(client, [proxy.url], RATE, SECONDS, (t) => {
        if (step < steps.length && t >= steps[step]) {
          const index = Math.floor(step / 2)
          void ask(
            step % 2 === 0 ? { cmd: 'stopOne', index } : { cmd: 'startOne', index, spec: fast },
          )
          step++
        }
      })
      await client.close()
      await proxy.stop()
      console.log(`| ${name} | ${r.errors} / ${r.total} | ${f(r.p99)} |`)
    }
    rmSync(dir, { recursive: true, force: true })
  }

  console.log(
    `\nload after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  await ask({ cmd: 'exit' }).catch(() => {})
  child.kill()
}
