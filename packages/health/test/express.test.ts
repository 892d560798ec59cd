import { createServer } from 'node:http'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { healthRouter } from '../src/express.js'
import { createHealth } from '../src/health.js'
import { listenForTest } from './servers.js'

describe('healthRouter', () => {
  it('serves the probes under the mount path and passes everything else on', async () => {
    const app = express()
    app.use('/ops', healthRouter(createHealth()))
    app.post('/ops/live', (_req, res) => {
      res.status(201).json({ posted: true })
    })
    const url = await listenForTest(createServer(app))
    expect(await (await fetch(`${url}/ops/live`)).json()).toEqual({ status: 'ok' })
    const posted = await fetch(`${url}/ops/live`, { method: 'POST' })
    expect([posted.status, await posted.json()]).toEqual([201, { posted: true }])
    const etagless = await fetch(`${url}/ops/health`)
    expect(etagless.headers.get('etag')).toBeNull()
    expect((await fetch(`${url}/live`)).status).toBe(404)
  })
})
