// CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with, one table entry per byte.
const TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : crc << 1
  return crc & 0xffff
})

/**
 * The Redis Cluster slot (0 to 16383) of `key`, as `CLUSTER KEYSLOT` computes it: only the part
 * inside the first non-empty `{…}` hash tag counts when there is one.
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key)
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) bytes = bytes.subarray(open + 1, close)
  }
  let crc = 0
  for (const byte of bytes)
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number)
  return crc & 0x3fff
}
