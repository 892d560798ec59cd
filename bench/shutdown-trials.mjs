// Consecutive SIGTERM trials of @uptimekit/shutdown under connection churn, per server kind:
// 50 keep-alive clients that honour `Connection: close` and reconnect at once, 50 ms handler,
// drainDelayMs 500, a real SIGTERM 300 ms into the load; every other trial with a second process
// busy-looping beside it. A lost request is any ECONNRESET, EPIPE, socket hang up or non-2xx
// answer on any connection, fresh or reused. `node bench/shutdown-trials.mjs [trials]` (100).
import { churnTrial, withBusyCore } from './shutdown-fixtures/churn.mjs'

const TRIALS = Number(process.argv[2] ?? 100)
const kinds = [
  ['node:http', 'uptimekit-http'],
  ['Express', 'uptimekit-express'],
  ['Fastify', 'uptimekit-fastify'],
]

const lines = [
  `| ${TRIALS} SIGTERM trials under churn | trials with a lost request | lost requests | of them with a busy core | 2xx answers | refused after the listener closed | exit code ≠ 0 |`,
  '|---|---:|---:|---:|---:|---:|---:|',
]
for (const [label, contender] of kinds) {
  const total = { failedTrials: 0, lost: 0, lostBusy: 0, ok: 0, refused: 0, badExit: 0 }
  const examples = []
  for (let i = 0; i < TRIALS; i++) {
    const busy = i % 2 === 1
    const run = () => churnTrial(contender)
    const t = busy ? await withBusyCore(run) : await run()
    total.ok += t.ok
    total.refused += t.refused
    total.lost += t.lost
    if (busy) total.lostBusy += t.lost
    if (t.lost > 0) {
      total.failedTrials += 1
      examples.push(`trial ${i + 1}${busy ? ' (busy)' : ''}: ${t.examples.join(', ')}`)
    }
    if (t.exitCode !== 0) total.badExit += 1
    process.stderr.write(`${label} ${i + 1}/${TRIALS}: lost ${t.lost}\n`)
  }
  lines.push(
    `| ${label} | ${total.failedTrials} | ${total.lost} | ${total.lostBusy} | ${total.ok} | ${total.refused} | ${total.badExit} |`,
  )
  for (const example of examples.slice(0, 5)) lines.push(`<!-- ${label} ${example} -->`)
}
process.stdout.write(`${lines.join('\n')}\n\nNode ${process.version}.\n`)
