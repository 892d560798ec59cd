import { statfs } from 'node:fs/promises'
import { integer, optional, optionsObject, ratio, text } from '@uptimekit/internal'
import { CheckFailedError } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'
import { reading } from './reading.js'

/** Options of `diskCheck()`. */
export interface DiskCheckOptions {
  /**
   * Any path on the file system to watch.
   * @default '/'
   */
  path?: string
  /**
   * Smallest free share of the file system, in (0, 1]; space reserved for root does not count as free.
   * @default 0.05 when `minFreeBytes` is not given either, else no ratio check
   */
  minFreeRatio?: number
  /**
   * Smallest free space, in bytes.
   * @default undefined (no byte check)
   */
  minFreeBytes?: number
}

/** Defaults of `diskCheck()` options. */
export const DISK_CHECK_DEFAULTS: { readonly path: '/'; readonly minFreeRatio: 0.05 } =
  Object.freeze({
    path: '/',
    minFreeRatio: 0.05,
  })

const MB = 1024 * 1024

/**
 * Checks free disk space with `fs.statfs` (raced against the signal: a hung
 * network mount must not hold the probe). Details: `{ freeBytes, totalBytes, freeRatio }`;
 * IETF reading `free` in percent.
 */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const given = optionsObject('diskCheck', options, ['path', 'minFreeRatio', 'minFreeBytes'])
  const path = text('path', given.path ?? DISK_CHECK_DEFAULTS.path)
  const minFreeBytes = optional(given.minFreeBytes, (v) => integer('minFreeBytes', v, { min: 0 }))
  const minFreeRatio = optional(
    given.minFreeRatio ??
      (minFreeBytes === undefined ? DISK_CHECK_DEFAULTS.minFreeRatio : undefined),
    (v) => ratio('minFreeRatio', v, true),
  )
  const check: HealthCheck = async (signal) => {
    const stats = await raceAbort(statfs(path), signal)
    const totalBytes = stats.blocks * stats.bsize
    const freeBytes = stats.bavail * stats.bsize
    const freeRatio = totalBytes === 0 ? 0 : Math.round((freeBytes / totalBytes) * 1000) / 1000
    const details = { freeBytes, totalBytes, freeRatio }
    if (minFreeBytes !== undefined && freeBytes < minFreeBytes) {
      throw new CheckFailedError(
        `${path}: ${(freeBytes / MB).toFixed(0)} MB free, below ${(minFreeBytes / MB).toFixed(0)} MB`,
        details,
      )
    }
    if (minFreeRatio !== undefined && freeBytes < totalBytes * minFreeRatio) {
      throw new CheckFailedError(
        `${path}: ${(freeRatio * 100).toFixed(1)}% free, below ${minFreeRatio * 100}%`,
        details,
      )
    }
    return details
  }
  check.componentType = 'system'
  check.observe = (details) => reading(details, 'freeRatio', 'free', 'percent', 100)
  return check
}
