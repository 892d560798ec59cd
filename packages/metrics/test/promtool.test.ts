import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { needBinary } from '../../../test/support/binaries.js'
import { frameworks } from './servers.js'

/** Runs `promtool check metrics` over an exposition text: its exit code and what it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
    child.stdin.end(text)
  })
}

const hasPromtool = needBinary('promtool')

describe.each(frameworks)('%s /metrics under promtool', (_name, start) => {
  it.runIf(hasPromtool)('passes `promtool check metrics` with the default setup', async () => {
    const app = await start()
    for (const path of ['/users/1', '/nope', '/boom', '/error-500']) {
      await (await fetch(`${app.url}${path}`)).arrayBuffer()
    }
    const text = await (await fetch(`${app.url}/metrics`)).text()
    expect(text).toContain(
      'http_requests_total{method="GET",route="/users/:id",status_code="200"} 1',
    )
    expect(text).toContain('# TYPE nodejs_active_handles gauge')
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' })
  })
})
