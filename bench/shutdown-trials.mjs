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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const lines = [
  `| ${TRIALS} SIGTERM trials under churn | trials with a lost request | lost requests | of them with a busy core | 2xx answers | refused after the listener closed | exit code ≠ 0 | \`Connection: close\` answers per trial, median (max) | SIGTERM → every connection open at it closed, median (max) ms | SIGTERM → first refusal, median (max) ms |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
]
for (const [label, contender] of kinds) {
  const total = { failedTrials: 0, lost: 0, lostBusy: 0, ok: 0, refused: 0, badExit: 0 }
  const examples = []
  const closeAnswers = []
  const moved = []
  const refusedFrom = []
  for (let i = 0; i < TRIALS; i++) {
    const busy = i % 2 === 1
    const run = () => churnTrial(contender)
    const t = busy ? await withBusyCore(run) : await run()
    total.ok += t.ok
    total.refused += t.refused
    total.lost += t.lost
    closeAnswers.push(t.closeAnswers)
    moved.push(t.movedMs ?? Infinity)
    refusedFrom.push(t.refusedFromMs)
    if (busy) total.lostBusy += t.lost
    if (t.lost > 0) {
      total.failedTrials += 1
      examples.push(
        `trial ${i + 1}${busy ? ' (busy)' : ''}: ${t.examples.join(', ')}; first refusal +${Math.round(t.refusedFromMs)}ms`,
      )
    }
    if (t.exitCode !== 0) total.badExit += 1
    process.stderr.write(`${label} ${i + 1}/${TRIALS}: lost ${t.lost}\n`)
  }
  const spread = (values) => `${Math.round(median(values))} (${Math.round(Math.max(...values))})`
  lines.push(
    `| ${label} | ${total.failedTrials} | ${total.lost} | ${total.lostBusy} | ${total.ok} | ${total.refused} | ${total.badExit} | ${spread(closeAnswers)} | ${spread(moved)} | ${spread(refusedFrom)} |`,
  )
  for (const example of examples.slice(0, 5)) lines.push(`<!-- ${label} ${example} -->`)
}
process.stdout.write(`${lines.join('\n')}\n\nNode ${process.version}.\n`)
