import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('./fixtures/many-breakers.mjs', import.meta.url))

describe('many breakers', () => {
  it('10,000 breakers hold no timer while idle or after their calls, and the process ends on its own', async () => {
    // The child imports the built package; it must exit without process.exit(), which it only
    // does if nothing (timer, socket) is left holding the event loop.
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 20_000 })
    expect(JSON.parse(stdout)).toEqual({
      // Only calls with a callTimeoutMs hold a timer, and only while they run.
      timers: { baseline: 0, afterCreate: 0, inFlight: 5_000, end: 0 },
      rejected: 10_000,
      open: 10_000,
    })
  })
})
