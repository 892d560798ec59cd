import { onTestFinished } from 'vitest'

/** Counts unhandled rejections and uncaught exceptions from now until the test finishes. */
export function watchProcess(): { count: () => number } {
  let count = 0
  const seen = (): void => {
    count++
  }
  process.on('unhandledRejection', seen)
  process.on('uncaughtException', seen)
  onTestFinished(() => {
    process.off('unhandledRejection', seen)
    process.off('uncaughtException', seen)
  })
  return { count: () => count }
}
