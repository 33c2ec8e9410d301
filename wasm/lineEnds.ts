// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` (scripts/build-wasm.ts), which embeds
// the module in src/decode/csv/lineEndsWasm.ts. The hot half of CsvFramer for the common CSV dialect,
// where the escape character is the quote character: it finds every CR and LF byte and says whether it
// lies inside quotes, 64 bytes at a time.
//
// Inside quotes or not is the parity of the quote bytes seen since the last record boundary. For a
// 64-byte block the quote bytes form a 64-bit mask; its prefix XOR has bit k set when an odd number of
// quotes lies at or before byte k, and the parity carried in from earlier blocks flips it. A line-end
// byte is never a quote, so its bit is exactly "inside quotes at this byte".
//
// The caller owns the memory layout: `len` bytes of input at `input`, and room for up to `len` events
// at `events` (one i32 each: the byte's position plus `base`, times two, plus one when it is inside
// quotes; `base` is where the input sits in the caller's own buffer).

/** Quote parity after the last call: 1 when the input ended inside quotes. */
export let endedInQuote: i32 = 0;

export function scan(input: usize, len: i32, events: usize, inQuote: i32, quote: i32, base: i32): i32 {
  const quotes = i8x16.splat(<i8>quote);
  const lfs = i8x16.splat(0x0a);
  const crs = i8x16.splat(0x0d);
  let count: i32 = 0;
  let i: i32 = 0;
  // 64 bytes at a time: four 16-byte vectors' masks joined in one i64, so a record's worth of bytes
  // (most are longer than 64) takes one branch on "any line end here" instead of four, each hard to
  // predict.
  // All ones while inside quotes, so it can flip a whole prefix mask.
  let carry: i64 = inQuote != 0 ? -1 : 0;
  const whole = len & ~63;
  while (i < whole) {
    const at = input + <usize>i;
    const v0 = v128.load(at);
    const v1 = v128.load(at, 16);
    const v2 = v128.load(at, 32);
    const v3 = v128.load(at, 48);
    const ends: i64 =
      <i64>i8x16.bitmask(v128.or(i8x16.eq(v0, lfs), i8x16.eq(v0, crs))) |
      (<i64>i8x16.bitmask(v128.or(i8x16.eq(v1, lfs), i8x16.eq(v1, crs))) << 16) |
      (<i64>i8x16.bitmask(v128.or(i8x16.eq(v2, lfs), i8x16.eq(v2, crs))) << 32) |
      (<i64>i8x16.bitmask(v128.or(i8x16.eq(v3, lfs), i8x16.eq(v3, crs))) << 48);
    const q: i64 =
      <i64>i8x16.bitmask(i8x16.eq(v0, quotes)) |
      (<i64>i8x16.bitmask(i8x16.eq(v1, quotes)) << 16) |
      (<i64>i8x16.bitmask(i8x16.eq(v2, quotes)) << 32) |
      (<i64>i8x16.bitmask(i8x16.eq(v3, quotes)) << 48);
    if (ends != 0) {
      let inside = q;
      inside ^= inside << 1;
      inside ^= inside << 2;
      inside ^= inside << 4;
      inside ^= inside << 8;
      inside ^= inside << 16;
      inside ^= inside << 32;
      inside ^= carry;
      let m = ends;
      while (m != 0) {
        const b = <i32>ctz(m);
        store<i32>(events + (<usize>count << 2), ((base + i + b) << 1) | (<i32>(inside >>> b) & 1));
        count++;
        m &= m - 1;
      }
    }
    if ((popcnt(q) & 1) != 0) carry = ~carry;
    i += 64;
  }
  // The last bytes (fewer than 64), one at a time.
  let inside: i32 = carry != 0 ? 1 : 0;
  while (i < len) {
    const c = <i32>load<u8>(input + <usize>i);
    if (c == quote) {
      inside ^= 1;
    } else if (c == 0x0a || c == 0x0d) {
      store<i32>(events + (<usize>count << 2), ((base + i) << 1) | inside);
      count++;
    }
    i++;
  }
  endedInQuote = inside;
  return count;
}
