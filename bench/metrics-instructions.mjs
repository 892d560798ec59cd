// Request-metrics overhead in CPU instructions per request, counted by valgrind's callgrind in
// the servers of `metrics.mjs --serve`. CPU time on this machine wobbles by ±5 % between runs;
// instruction counts repeat to about 0.5 %, so they can tell apart differences that CPU time
// cannot. Node runs with --single-threaded so V8's garbage collector and compiler work on the
// main thread, where it is counted the same way every run, instead of on helper threads.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { FRAMEWORKS } from './metrics-variants.mjs'

const require = createRequire(import.meta.url)
const run = promisify(execFile)
const REQUESTS = Number(process.env.BENCH_INSTR_REQUESTS ?? 3000)
const WARMUP = Number(process.env.BENCH_INSTR_WARMUP ?? 10000)
// Requests after instrumentation is switched on and before counting starts, so code that
// callgrind has to translate anew is not counted.
const SETTLE = 300
// Each process settles during warm-up into one of a few steady states (up to 3 % apart for the
// same server), so each variant is the median of several fresh processes.
const PROCESSES = Number(process.env.BENCH_INSTR_PROCESSES ?? 3)
const CONNECTIONS = 10
const SERVER = fileURLToPath(new URL('metrics.mjs', import.meta.url))

async function load(autocannon, port, amount) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/users/42`,
    connections: CONNECTIONS,
    amount,
    // Under callgrind a server answers 20 to 50 times slower, and slower still on a loaded
    // machine: autocannon's 10 s default would count slow answers as failures.
    timeout: 300,
  })
  if (result['2xx'] !== amount || result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`port ${port}: ${result['2xx']} of ${amount} requests answered 2xx`)
  }
  return result['2xx']
}

/** Instructions per request of one server, in a fresh process under callgrind. */
async function measure(autocannon, dir, framework, kind) {
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'cg.%p')}`,
      '--separate-threads=yes',
      '--instr-atstart=no',
      '--dump-line=no',
      process.execPath,
      '--single-threaded',
      '--random-seed=1',
      SERVER,
      '--serve',
      framework,
      kind,
    ],
    { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
  const exited = once(child, 'exit')
  try {
    const ready = new Promise((resolve) =>
      child.on('message', (m) => m.type === 'ready' && resolve(m)),
    )
    const early = exited.then(([code]) => {
      throw new Error(`${framework} ${kind} exited (${code}) before ready:\n${stderr}`)
    })
    const { port } = await Promise.race([ready, early])
    const pid = String(child.pid)
    await load(autocannon, port, WARMUP)
    await run('callgrind_control', ['-i', 'on', pid])
    await load(autocannon, port, SETTLE)
    await run('callgrind_control', ['-z', pid])
    const requests = await load(autocannon, port, REQUESTS)
    await run('callgrind_control', ['-d', pid])
    return (await dumpTotal(dir, pid)) / requests
  } finally {
    child.kill('SIGKILL')
    await exited
  }
}

/** Sum over every thread's file of the last dump of `pid` (cg.<pid>.<dump>-<thread>). */
async function dumpTotal(dir, pid) {
  const dumps = new Map()
  for (const file of await readdir(dir)) {
    const match = new RegExp(`^cg\\.${pid}\\.(\\d+)(-\\d+)?$`).exec(file)
    if (match) dumps.set(Number(match[1]), [...(dumps.get(Number(match[1])) ?? []), file])
  }
  if (dumps.size === 0) throw new Error(`no callgrind dump for pid ${pid}`)
  let total = 0
  for (const file of dumps.get(Math.max(...dumps.keys()))) {
    const count = /^(?:summary|totals): (\d+)/m.exec(await readFile(join(dir, file), 'utf8'))
    if (!count) throw new Error(`${file}: no summary line`)
    total += Number(count[1])
  }
  return total
}

async function main() {
  const valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' })
  if (valgrind.error) {
    console.log('The instruction table needs valgrind (`apt-get install valgrind`); skipped.')
    return
  }
  const { default: autocannon } = await import('autocannon')
  const dir = await mkdtemp(join(tmpdir(), 'uptimekit-callgrind-'))
  const lines = ['| Variant | instructions per request | vs bare |', '|---|---:|---:|']
  try {
    for (const { name, variants } of FRAMEWORKS) {
      // One at a time: a second server would change how requests batch per event-loop turn.
      let bare
      for (const [kind, label] of variants) {
        const counts = []
        for (let i = 0; i < PROCESSES; i++) counts.push(await measure(autocannon, dir, name, kind))
        const perRequest = counts.sort((a, b) => a - b)[Math.floor(counts.length / 2)]
        bare ??= perRequest
        lines.push(
          `| ${label} | ${Math.round(perRequest).toLocaleString('en-US')} | ${(perRequest / bare).toFixed(3)}x |`,
        )
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  const version = (name) => require(`${name}/package.json`).version
  console.log(lines.join('\n'))
  console.log(
    `\nNode ${process.version}; ${valgrind.stdout.trim()} (callgrind); the median of ${PROCESSES} fresh server processes per variant, each run as \`node --single-threaded\`: ${WARMUP} warm-up requests uninstrumented, ${SETTLE} instrumented, then instructions counted over ${REQUESTS} requests on ${CONNECTIONS} connections; fastify ${version('fastify')}, express ${version('express')}, fastify-metrics ${version('fastify-metrics')} (on @platformatic/prom-client ${version('@platformatic/prom-client')}), express-prom-bundle ${version('express-prom-bundle')}`,
  )
}

await main()
