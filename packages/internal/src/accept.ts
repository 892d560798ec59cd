interface MediaRange {
  type: string
  subtype: string
  q: number
  order: number
}

function parseRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = []
  const parts = accept.split(',')
  for (let order = 0; order < parts.length; order++) {
    const [mediaType = '', ...params] = (parts[order] ?? '').split(';')
    const [type = '', subtype = ''] = mediaType.trim().toLowerCase().split('/')
    if (type === '' || subtype === '') continue
    let q = 1
    for (const param of params) {
      const [name = '', value = ''] = param.split('=').map((piece) => piece.trim())
      if (name.toLowerCase() !== 'q') continue
      const parsed = Number(value)
      q = value !== '' && parsed >= 0 && parsed <= 1 ? parsed : 1
    }
    ranges.push({ type, subtype, q, order })
  }
  return ranges
}

function specificity(range: MediaRange, type: string, subtype: string): number {
  if (range.type === type && range.subtype === subtype) return 2
  if (range.type === type && range.subtype === '*') return 1
  if (range.type === '*' && range.subtype === '*') return 0
  return -1
}

/**
 * Picks the media type to answer with from `offers` (ours, in order of preference), by an
 * `Accept` header (RFC 9110 §12.5.1): case-insensitive, q-values honoured, `q=0` excludes, the
 * most specific matching range decides an offer's weight, ties go to the client's order and then
 * to ours. No header, or an empty one, picks our first offer; undefined means none is acceptable.
 */
export function negotiate(
  accept: string | undefined,
  offers: readonly string[],
): string | undefined {
  if (accept === undefined || accept.trim() === '') return offers[0]
  const ranges = parseRanges(accept)
  let best: { offer: string; q: number; specific: number; order: number } | undefined
  for (const offer of offers) {
    const [type = '', subtype = ''] = offer.toLowerCase().split(';')[0]!.trim().split('/')
    let match: MediaRange | undefined
    let matchSpecificity = -1
    for (const range of ranges) {
      const specific = specificity(range, type, subtype)
      if (specific > matchSpecificity) {
        match = range
        matchSpecificity = specific
      }
    }
    if (match === undefined || match.q === 0) continue
    const better =
      best === undefined ||
      match.q > best.q ||
      (match.q === best.q && matchSpecificity > best.specific) ||
      (match.q === best.q && matchSpecificity === best.specific && match.order < best.order)
    if (better) best = { offer, q: match.q, specific: matchSpecificity, order: match.order }
  }
  return best?.offer
}
