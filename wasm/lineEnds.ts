// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` (scripts/build-wasm.ts), which embeds
// the module in src/scan/lineEndsWasm.ts. The hot half of CsvFramer for the common CSV dialect, where
// the escape character is the quote character: it finds every CR and LF byte and says whether it lies
// inside quotes, 16 bytes at a time.
//
// Inside quotes or not is the parity of the quote bytes seen since the last record boundary. For a
// 16-byte block the quote bytes form a 16-bit mask; its prefix XOR has bit k set when an odd number of
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
  // All ones while inside quotes, so it can flip a whole prefix mask.
  let carry: i32 = inQuote != 0 ? 0xffff : 0;
  let count: i32 = 0;
  let i: i32 = 0;
  const whole = len & ~15;
  while (i < whole) {
    const v = v128.load(input + <usize>i);
    const q = i8x16.bitmask(i8x16.eq(v, quotes));
    const ends = i8x16.bitmask(v128.or(i8x16.eq(v, lfs), i8x16.eq(v, crs)));
    if (ends != 0) {
      let inside = q;
      inside ^= inside << 1;
      inside ^= inside << 2;
      inside ^= inside << 4;
      inside ^= inside << 8;
      inside ^= carry;
      let m = ends;
      while (m != 0) {
        const b = ctz(m);
        store<i32>(events + (<usize>count << 2), ((base + i + b) << 1) | ((inside >>> b) & 1));
        count++;
        m &= m - 1;
      }
    }
    if ((popcnt(q) & 1) != 0) carry ^= 0xffff;
    i += 16;
  }
  let inside = carry & 1;
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
