import type { AddressInfo } from 'node:net'
import express from 'express'
import { describe, expect, it, onTestFinished } from 'vitest'
import { healthRouter } from '../src/express.js'
import { createHealth } from '../src/health.js'

describe('healthRouter', () => {
  it('serves the probes under the mount path and passes everything else on', async () => {
    const app = express()
    app.use('/ops', healthRouter(createHealth()))
    app.post('/ops/live', (_req, res) => {
      res.status(201).json({ posted: true })
    })
    const server = app.listen(0, '127.0.0.1')
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    )
    await new Promise<void>((resolve) => server.once('listening', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    expect(await (await fetch(`${url}/ops/live`)).json()).toEqual({ status: 'ok' })
    const posted = await fetch(`${url}/ops/live`, { method: 'POST' })
    expect([posted.status, await posted.json()]).toEqual([201, { posted: true }])
    const etagless = await fetch(`${url}/ops/health`)
    expect(etagless.headers.get('etag')).toBeNull()
    expect((await fetch(`${url}/live`)).status).toBe(404)
  })
})
