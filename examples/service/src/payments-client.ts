// Calls the payment upstream. A failure becomes a PaymentsError carrying the
// status our API answers with (502 or 504), so the route answers a 5xx and
// the breaker guard counts it.

/** The upstream failed; `statusCode` is what POST /api/payments answers. */
export class PaymentsError extends Error {
  readonly statusCode: number
  constructor(message: string, statusCode: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'PaymentsError'
    this.statusCode = statusCode
  }
}

/** A charge to send. */
export interface Payment {
  amount: number
  currency: string
}

/** Charges a payment and resolves with the provider's receipt; throws PaymentsError. */
export type Charge = (payment: Payment) => Promise<unknown>

/** A client for the payment upstream at `baseUrl`, each call under `timeoutMs`. */
export function createPaymentsClient({
  baseUrl,
  timeoutMs,
}: {
  baseUrl: string
  timeoutMs: number
}): Charge {
  const url = `${baseUrl}/charge`
  return async function charge(payment) {
    const deadline = AbortSignal.timeout(timeoutMs)
    let res: Response
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
      const failure = error as Error & { cause?: { code?: string } }
      const reason = failure.cause?.code ?? failure.message
      throw new PaymentsError(`payment provider unreachable (${reason})`, 502, { cause: error })
    }
    const body: unknown = await res.json().catch(() => undefined)
    if (!res.ok) throw new PaymentsError(`payment provider answered ${res.status}`, 502)
    return body
  }
}
