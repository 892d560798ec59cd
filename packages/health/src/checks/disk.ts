import { statfs } from 'node:fs/promises'
import { InvalidOptionError, shown } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

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
 * network mount must not hold the probe). Details: `{ freeBytes, totalBytes, freeRatio }`.
 */
export function diskCheck(options: DiskCheckOptions = {}): HealthCheck {
  const path = options.path ?? DISK_CHECK_DEFAULTS.path
  if (typeof path !== 'string' || path === '') {
    throw new InvalidOptionError('path', 'must be a non-empty path', shown(path))
  }
  const { minFreeBytes } = options
  if (minFreeBytes !== undefined && !(Number.isSafeInteger(minFreeBytes) && minFreeBytes >= 0)) {
    throw new InvalidOptionError(
      'minFreeBytes',
      'must be a non-negative integer of bytes',
      shown(minFreeBytes),
    )
  }
  const minFreeRatio =
    options.minFreeRatio ??
    (minFreeBytes === undefined ? DISK_CHECK_DEFAULTS.minFreeRatio : undefined)
  if (
    minFreeRatio !== undefined &&
    (typeof minFreeRatio !== 'number' || !(minFreeRatio >= 0 && minFreeRatio <= 1))
  ) {
    throw new InvalidOptionError(
      'minFreeRatio',
      'must be a number from 0 to 1',
      shown(minFreeRatio),
    )
  }
  return async (signal) => {
    const stats = await raceAbort(statfs(path), signal)
    const totalBytes = stats.blocks * stats.bsize
    const freeBytes = stats.bavail * stats.bsize
    const freeRatio = totalBytes === 0 ? 0 : Math.round((freeBytes / totalBytes) * 1000) / 1000
    if (minFreeBytes !== undefined && freeBytes < minFreeBytes) {
      throw new Error(
        `${path}: ${(freeBytes / MB).toFixed(0)} MB free, below ${(minFreeBytes / MB).toFixed(0)} MB`,
      )
    }
    if (minFreeRatio !== undefined && freeBytes < totalBytes * minFreeRatio) {
      throw new Error(
        `${path}: ${(freeRatio * 100).toFixed(1)}% free, below ${minFreeRatio * 100}%`,
      )
    }
    return { freeBytes, totalBytes, freeRatio }
  }
}
