import type { ResolvedOptions } from './options.js'
import type { Upstream } from './upstream.js'

/**
 * What the outcomes of real requests say about an upstream: nginx's `max_fails` /
 * `fail_timeout` and Envoy's outlier ejection. Both only set fields on the upstream; the
 * balancer reads them when it next builds its list of upstreams in service.
 */
export class PassiveHealth {
  private readonly passive: ResolvedOptions['passive']
  private readonly outlier: ResolvedOptions['outlier']

  constructor(passive: ResolvedOptions['passive'], outlier: ResolvedOptions['outlier']) {
    this.passive = passive
    this.outlier = outlier
  }

  /**
   * Counts a failure; true when it took the upstream out. `all` is every upstream, for the cap
   * on ejections.
   */
  failure(upstream: Upstream, nowMs: number, all: readonly Upstream[]): boolean {
    upstream.failures++
    let out = false
    const passive = this.passive
    if (passive !== undefined) {
      // nginx: failures count until fail_timeout passes without one (a quiet period, not a
      // sliding window); after an upstream was out, its first request is a trial and one
      // failure takes it out again.
      if (!upstream.trial && nowMs - upstream.lastFailMs > passive.failTimeoutMs) upstream.fails = 0
      upstream.fails++
      upstream.lastFailMs = nowMs
      if ((upstream.trial || upstream.fails >= passive.maxFails) && nowMs >= upstream.downUntilMs) {
        upstream.downUntilMs = nowMs + passive.failTimeoutMs
        upstream.trial = true
        out = true
      }
    }
    const outlier = this.outlier
    if (outlier !== undefined) {
      upstream.consecutiveFailures++
      if (
        upstream.consecutiveFailures >= outlier.consecutiveFailures &&
        nowMs >= upstream.ejectedUntilMs &&
        this.mayEject(all, nowMs)
      ) {
        // The multiplier falls by one for each base period spent in service since the last
        // ejection, as Envoy's does, so an upstream that recovered is not punished for old ones.
        const calm = Math.floor((nowMs - upstream.ejectedUntilMs) / outlier.baseEjectionMs)
        upstream.ejectionStreak = Math.max(0, upstream.ejectionStreak - calm) + 1
        upstream.ejections++
        upstream.consecutiveFailures = 0
        upstream.ejectedUntilMs =
          nowMs + Math.min(outlier.baseEjectionMs * upstream.ejectionStreak, outlier.maxEjectionMs)
        out = true
      }
    }
    return out
  }

  /** Counts a success: it ends a failure streak and a trial after an upstream was out. */
  success(upstream: Upstream): void {
    upstream.consecutiveFailures = 0
    if (upstream.trial) {
      upstream.trial = false
      upstream.fails = 0
    }
  }

  private mayEject(all: readonly Upstream[], nowMs: number): boolean {
    let ejected = 0
    for (const upstream of all) if (nowMs < upstream.ejectedUntilMs) ejected++
    const cap = Math.max(1, Math.floor(all.length * this.outlier!.maxEjectedRatio))
    return ejected < cap
  }
}
