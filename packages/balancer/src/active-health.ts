import type { Dispatcher } from 'undici'
import type { ResolvedOptions } from './options.js'
import type { Upstream } from './upstream.js'

type Settings = NonNullable<ResolvedOptions['active']>

interface Watch {
  timer: NodeJS.Timeout | undefined
  client: Dispatcher
  running: Promise<void> | undefined
}

/**
 * Active health checks, as Nginx Plus' `health_check` and HAProxy's `check`: a GET on `path`
 * every `intervalMs`, out after `fails` failures in a row, back after `passes` passes. Each
 * upstream is checked over a connection of its own, so a saturated pool cannot fail its checks.
 * Upstreams start up (no check has said otherwise), and the first check of each comes at a random
 * point of the first interval, so the checks of many upstreams do not go out together.
 */
export class ActiveHealth {
  private readonly settings: Settings
  private readonly clientFor: (upstream: Upstream) => Dispatcher
  private readonly changed: (upstream: Upstream) => void
  private readonly watches = new Map<Upstream, Watch>()

  /**
   * @param clientFor - a one-connection client to the upstream
   * @param changed - called when a check result took an upstream out or brought it back
   */
  constructor(
    settings: Settings,
    clientFor: (upstream: Upstream) => Dispatcher,
    changed: (upstream: Upstream) => void,
  ) {
    this.settings = settings
    this.clientFor = clientFor
    this.changed = changed
  }

  /** Starts checking an upstream. */
  watch(upstream: Upstream): void {
    const watch: Watch = { timer: undefined, client: this.clientFor(upstream), running: undefined }
    this.watches.set(upstream, watch)
    this.schedule(upstream, watch, Math.random() * this.settings.intervalMs)
  }

  /** Stops checking an upstream and closes its connection. */
  async unwatch(upstream: Upstream): Promise<void> {
    const watch = this.watches.get(upstream)
    if (watch === undefined) return
    this.watches.delete(upstream)
    clearTimeout(watch.timer)
    await watch.running
    await watch.client.destroy()
  }

  /** Stops every check. */
  async close(): Promise<void> {
    await Promise.all([...this.watches.keys()].map((upstream) => this.unwatch(upstream)))
  }

  private schedule(upstream: Upstream, watch: Watch, delayMs: number): void {
    watch.timer = setTimeout(() => {
      watch.running = this.check(upstream, watch).then(() => {
        watch.running = undefined
        if (this.watches.get(upstream) !== watch) return
        const { intervalMs, jitter } = this.settings
        this.schedule(upstream, watch, intervalMs * (1 + jitter * (Math.random() * 2 - 1)))
      })
    }, delayMs)
    watch.timer.unref()
  }

  private async check(upstream: Upstream, watch: Watch): Promise<void> {
    const { path, timeoutMs } = this.settings
    let passed = false
    // A timer of our own rather than AbortSignal.timeout(), whose timer outlives the check.
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(), timeoutMs)
    try {
      const response = await watch.client.request({
        method: 'GET',
        path,
        headers: upstream.hostHeader === undefined ? {} : { host: upstream.hostHeader },
        signal: deadline.signal,
      })
      await response.body.dump()
      // Our own probes answer 503 while not ready: anything but 2xx/3xx takes it out.
      passed = response.statusCode >= 200 && response.statusCode < 400
    } catch {
      passed = false
    } finally {
      clearTimeout(timer)
    }
    if (this.watches.get(upstream) !== watch) return
    this.record(upstream, passed)
  }

  private record(upstream: Upstream, passed: boolean): void {
    const { fails, passes } = this.settings
    if (passed) {
      upstream.checkFails = 0
      upstream.checkPasses++
      if (upstream.checkDown && upstream.checkPasses >= passes) {
        upstream.checkDown = false
        this.changed(upstream)
      }
    } else {
      upstream.checkPasses = 0
      upstream.checkFails++
      if (!upstream.checkDown && upstream.checkFails >= fails) {
        upstream.checkDown = true
        this.changed(upstream)
      }
    }
  }
}
