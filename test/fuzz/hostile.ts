import fc from 'fast-check';

/**
 * Values no well-behaved client sends: boundary and out-of-range numbers, huge and odd unicode
 * strings (lone surrogates, NUL, right-to-left marks), and values of the wrong JSON type.
 */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    1.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e21,
    1e308,
    -1e308,
    Number.MIN_VALUE,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const oddPieces = [
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\u202E',
  '\u200F',
  '\uFEFF',
  '\u{1F600}',
  '../',
  '%00',
  "' OR 1=1 --",
  '<script>',
  '$' + '{x}',
  '\\',
  '\n',
  '\r\n',
  ' ',
  '0x10',
  '１２３',
  '٣',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '00', '1e3', 'null', 'true', '[]', '{}', '18446744073709551616', '9'.repeat(40)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...oddPieces), { minLength: 1, maxLength: 8 }).map((a) => a.join('')),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.nat({ max: 3 }).map((k) => 'x'.repeat([300, 4_096, 70_000, 200_000][k]!)),
);

/** Any JSON value, sometimes deep or with prototype keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      JSON.parse('{"__proto__":{"admin":true}}'),
      { constructor: { prototype: { x: 1 } } },
      nest(200),
    ),
  },
);

function nest(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/**
 * Percent-encodes a path segment byte by byte. `encodeURIComponent` refuses lone surrogates; here they
 * become the bytes a broken client would send (invalid UTF-8).
 */
export function encodeSegment(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(s.slice(i, i + 2));
        i++;
      } else {
        out += `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`;
      }
    } else {
      out += encodeURIComponent(s[i]!);
    }
  }
  return out;
}
