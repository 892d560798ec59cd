// Calls the payment upstream. A failure becomes a PaymentsError carrying the
// status our API answers with (502 or 504), so the route answers a 5xx and
// the breaker guard counts it.

/** The upstream failed; `statusCode` is what POST /api/payments answers. */
export class PaymentsError extends Error {
  constructor(message, statusCode, options) {
    super(message, options)
    this.name = 'PaymentsError'
    this.statusCode = statusCode
  }
}

/**
 * @param {{ baseUrl: string, timeoutMs: number }} options
 * @returns {(payment: { amount: number, currency: string }) => Promise<object>}
 */
export function createPaymentsClient({ baseUrl, timeoutMs }) {
  const url = `${baseUrl}/charge`
  return async function charge(payment) {
    const deadline = AbortSignal.timeout(timeoutMs)
    let res
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payment),
        signal: deadline,
      })
    } catch (error) {
      if (deadline.aborted) {
        throw new PaymentsError(`payment provider did not answer within ${timeoutMs} ms`, 504, {
          cause: error,
        })
      }
      const reason = error.cause?.code ?? error.message
      throw new PaymentsError(`payment provider unreachable (${reason})`, 502, { cause: error })
    }
    const body = await res.json().catch(() => undefined)
    if (!res.ok) throw new PaymentsError(`payment provider answered ${res.status}`, 502)
    return body
  }
}
