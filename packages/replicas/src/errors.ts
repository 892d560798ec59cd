import {
  hasCode,
  InvalidOptionError,
  isInvalidOptionError,
  UptimekitError,
} from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError }

/**
 * Rejection of `write()` (or of a read that must see a write) while no node is a reachable,
 * writable primary: during a failover, before a replica is promoted. The function was not called.
 */
export class NoPrimaryError extends UptimekitError {
  /** The code every `NoPrimaryError` carries; `instanceof` compares it, so two loaded copies agree. */
  static override readonly code: string = 'UPTIMEKIT_NO_PRIMARY'

  /** @param set - the replica set's name */
  constructor(set: string) {
    super(NoPrimaryError.code, `replica set "${set}" has no reachable writable primary`)
  }
}

/** Rejection of `read()` while no node can serve it: no primary and no replica within the lag bound. */
export class NoReadableNodeError extends UptimekitError {
  /** The code every `NoReadableNodeError` carries. */
  static override readonly code: string = 'UPTIMEKIT_NO_READABLE_NODE'

  /** @param set - the replica set's name */
  constructor(set: string) {
    super(
      NoReadableNodeError.code,
      `replica set "${set}" has no primary and no replica within the lag bound`,
    )
  }
}

/**
 * Rejection of `read()` while no replica is within the lag bound and `maxFallbackReads` reads
 * already run on the primary instead. The function was not called.
 */
export class FallbackFullError extends UptimekitError {
  /** The code every `FallbackFullError` carries. */
  static override readonly code: string = 'UPTIMEKIT_REPLICA_FALLBACK_FULL'

  /**
   * @param set - the replica set's name
   * @param limit - the `maxFallbackReads` reached
   */
  constructor(set: string, limit: number) {
    super(
      FallbackFullError.code,
      `replica set "${set}": no replica is within the lag bound and ${limit} fallback reads already run on the primary`,
    )
  }
}

/** Whether `err` is a {@link NoPrimaryError} from any loaded copy (checks `code`). */
export const isNoPrimaryError = (err: unknown): err is NoPrimaryError =>
  hasCode(err, NoPrimaryError.code)

/** Whether `err` is a {@link NoReadableNodeError} from any loaded copy (checks `code`). */
export const isNoReadableNodeError = (err: unknown): err is NoReadableNodeError =>
  hasCode(err, NoReadableNodeError.code)

/** Whether `err` is a {@link FallbackFullError} from any loaded copy (checks `code`). */
export const isFallbackFullError = (err: unknown): err is FallbackFullError =>
  hasCode(err, FallbackFullError.code)
