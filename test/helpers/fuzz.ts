/**
 * Fuzzing with fast-check: arbitraries for hostile requests (methods, paths, headers, bodies with
 * huge strings, control characters, invalid UTF-8, deep nesting and prototype keys), and the one
 * contract check every response must pass (design §3 and §6). Shared by the in-process and the
 * HTTP fuzz suites.
 */
import fc from 'fast-check';
import { SECURITY_HEADERS } from './http.js';

/** Default runs for `npm test`; `npm run fuzz` sets FUZZ_RUNS=10000. */
const DEFAULT_RUNS = 1000;
/** The fixed seed of the `npm test` sample; FUZZ_SEED=random explores (the failure report prints the seed). */
const DEFAULT_SEED = 20250115;

/** How many cases to run and with which seed. */
export function fuzzSettings(): { numRuns: number; seed: number } {
  const runs = Number(process.env.FUZZ_RUNS ?? DEFAULT_RUNS);
  const seedEnv = process.env.FUZZ_SEED;
  const seed = seedEnv === undefined ? DEFAULT_SEED : seedEnv === 'random' ? Date.now() : Number(seedEnv);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('FUZZ_RUNS must be a positive whole number');
  if (!Number.isInteger(seed)) throw new Error('FUZZ_SEED must be a whole number or "random"');
  return { numRuns: runs, seed };
}

/** The credentials a fuzzed request may (or may not) present. */
export interface FuzzCredentials {
  readonly widgetKey: string;
  readonly adminKey: string;
  readonly serverKey: string;
  /** A valid widget token. */
  readonly token: string;
}

/** One hostile request. `body` bytes that are not UTF-8 stay bytes. */
export interface FuzzRequest {
  readonly method: string;
  /** Path segments, raw (the HTTP suite percent-encodes what a request-target cannot carry). */
  readonly segments: readonly string[];
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer | undefined;
}

/** Whether arbitraries must stay within what Node's HTTP client can put on the wire. */
export type Wire = 'event' | 'http';

const KNOWN_SEGMENTS = [
  'v1',
  'chat',
  'stream',
  'admin',
  'conversations',
  'sessions',
  'messages',
  'tokens',
  'revoke',
  'audit',
  'health',
  '..',
  '.',
  '',
  '%00',
  '%2e%2e',
  '%ff',
  '%',
  '__proto__',
  'constructor',
  'prototype',
];

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Characters Node's client accepts in a header value: tab, printable ASCII and Latin-1. */
const headerSafe = (text: string) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

/** Text with the characters fuzzing likes: any code unit, controls, lone surrogates, emoji. */
const nastyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength }),
    fc.string({
      unit: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u202e', '\ufeff', '😀', '\r\n', '"', '\\'),
      maxLength,
    }),
    fc.string({ maxLength }),
  );

/** A JSON value whose objects favour prototype-polluting keys. */
const pollutingJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    tie('object'),
    fc.array(tie('value'), { maxLength: 4 }),
  ),
  object: fc.dictionary(
    fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'sessionId', 'message', 'isAdmin'), fc.string({ maxLength: 8 })),
    tie('value'),
    { maxKeys: 5 },
  ),
}));

/** Deeply nested JSON text (arrays or objects), up to `max` levels. */
const deepJson = (max: number) =>
  fc
    .tuple(fc.integer({ min: 100, max }), fc.boolean())
    .map(([depth, arrays]) =>
      arrays ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    );

/** A body: nothing, chat-shaped JSON, prototype keys, deep nesting, huge strings, raw bytes, noise. */
const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc
    .record({
      sessionId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/), nastyText(16)),
      message: nastyText(200),
    })
    .map((b) => JSON.stringify(b)),
  pollutingJson.object.map((value) => JSON.stringify(value)),
  fc
    .tuple(fc.constantFrom(...PROTOTYPE_KEYS), fc.jsonValue({ maxDepth: 2 }))
    .map(([key, value]) => `{"sessionId":"s1","message":"hi","${key}":${JSON.stringify(value)}}`),
  deepJson(30_000),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => JSON.stringify({ sessionId: 'big', message: 'x'.repeat(n) })),
  fc
    .integer({ min: 3_990, max: 4_010 })
    .map((n) => JSON.stringify({ sessionId: 'edge', message: '\u{1F600}'.repeat(n) })),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
  nastyText(300),
);

/** Headers: the ones the chain reads, with right, wrong and absurd values, plus random extras. */
function headersArb(credentials: FuzzCredentials, wire: Wire): fc.Arbitrary<Record<string, string>> {
  const value = (text: fc.Arbitrary<string>) => (wire === 'http' ? text.map(headerSafe) : text);
  const optional = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });
  const name = fc
    .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
    .filter(
      (n) =>
        ![
          'host',
          'connection',
          'content-length',
          'transfer-encoding',
          'expect',
          'upgrade',
          'te',
          'keep-alive',
        ].includes(n),
    );
  return fc
    .record({
      'content-type': optional(
        fc.oneof(
          fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/json; charset=latin1',
          ),
          value(nastyText(40)),
        ),
      ),
      'x-widget-api-key': optional(
        fc.oneof(fc.constant(credentials.widgetKey), value(nastyText(60)), fc.constant('k'.repeat(5000))),
      ),
      authorization: optional(
        fc.oneof(
          fc.constantFrom(
            `Bearer ${credentials.token}`,
            `Bearer ${credentials.adminKey}`,
            `Bearer ${credentials.serverKey}`,
            `Bearer ${credentials.token.slice(0, -2)}xx`,
            'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
            'Basic YWRtaW46YWRtaW4=',
          ),
          value(nastyText(80)).map((t) => `Bearer ${t}`),
          value(nastyText(80)),
        ),
      ),
      origin: optional(
        fc.oneof(fc.constantFrom('https://app.example.com', 'null', 'https://evil.example'), value(nastyText(40))),
      ),
      'x-request-id': optional(value(nastyText(200))),
      extra: fc.dictionary(name, value(nastyText(100)), { maxKeys: 4 }),
    })
    .map(({ extra, ...known }) => {
      const headers: Record<string, string> = { ...extra };
      for (const [key, v] of Object.entries(known)) if (v !== undefined) headers[key] = v;
      return headers;
    });
}

/** A hostile request. */
export function requestArb(credentials: FuzzCredentials, wire: Wire): fc.Arbitrary<FuzzRequest> {
  const methods = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'];
  return fc.record({
    method: wire === 'http' ? fc.constantFrom(...methods) : fc.oneof(fc.constantFrom(...methods), nastyText(12)),
    segments: fc.oneof(
      fc.constantFrom(
        ['v1', 'chat'],
        ['chat'],
        ['v1', 'tokens'],
        ['v1', 'tokens', 'revoke'],
        ['v1', 'admin', 'conversations'],
        ['v1', 'admin', 'audit'],
        ['v1', 'admin', 'tokens', 'revoke'],
        ['health'],
      ),
      fc
        .tuple(fc.constantFrom('sessions', 'admin'), nastyText(40))
        .map(([kind, id]) =>
          kind === 'sessions' ? ['v1', 'sessions', id, 'messages'] : ['v1', 'admin', 'conversations', id],
        ),
      fc.array(fc.oneof(fc.constantFrom(...KNOWN_SEGMENTS), nastyText(20)), { maxLength: 6 }),
    ),
    query: fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom('limit', 'cursor', 'userId', 'type', '__proto__'), nastyText(10)),
        nastyText(60),
      ),
      { maxLength: 4 },
    ),
    headers: headersArb(credentials, wire),
    body: bodyArb,
  });
}

/** What only a stack trace, a source path or an internal name would put in a body. */
const LEAKS = [
  /\n\s+at\s/,
  /\bat [\w$.<>]+ \(/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /node_modules/,
  /\/work\/|\/var\/task|\/tmp\//,
  /ZodError|TypeError|RangeError|SyntaxError|ReferenceError/,
  /AppError|ServiceUnavailableError|ConditionalCheckFailed|DynamoDB|middy|Exception/i,
];

const ERROR_KEYS = new Set(['code', 'message', 'retry_after', 'details']);

/** One response as both suites see it: status, lower-cased headers, body text. */
export interface FuzzResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | boolean | string[] | undefined>>;
  readonly body: string;
}

/**
 * The contract problems of `response` (empty when it is fine): never a 5xx, always the security
 * headers, the error body shape on errors, no stack trace or internal name, no secret echoed.
 */
export function contractProblems(
  response: FuzzResponse,
  options: { readonly method: string; readonly secrets: readonly string[] },
): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`status ${response.status}`);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (response.headers[name] !== value) problems.push(`header ${name} is ${String(response.headers[name])}`);
  }
  if (response.headers['x-powered-by'] !== undefined) problems.push('x-powered-by present');
  for (const secret of options.secrets) if (response.body.includes(secret)) problems.push('a secret is echoed');
  const hasBody = options.method !== 'HEAD' && response.status !== 204;
  if (response.status >= 400 && hasBody) {
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      problems.push(`error body is not JSON: ${response.body.slice(0, 200)}`);
    }
    const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
    if (body !== undefined && (Object.keys(body as object).join() !== 'error' || typeof error !== 'object')) {
      problems.push(`error body is not {"error":{…}}: ${response.body.slice(0, 200)}`);
    } else if (error) {
      const keys = Object.keys(error);
      if (keys.some((k) => !ERROR_KEYS.has(k))) problems.push(`unexpected error fields: ${keys.join()}`);
      if (typeof error.code !== 'string' || !/^[A-Z_]+$/.test(error.code)) problems.push('error.code is not a code');
      if (typeof error.message !== 'string' || error.message.length === 0) problems.push('error.message is missing');
      const shown = [
        error.message,
        ...((error.details as Array<{ message?: unknown }> | undefined) ?? []).map((d) => d.message),
      ];
      for (const leak of LEAKS)
        if (shown.some((text) => leak.test(String(text)))) problems.push(`leak ${String(leak)}`);
    }
  }
  for (const leak of LEAKS.slice(0, 5)) if (leak.test(response.body)) problems.push(`body leaks ${String(leak)}`);
  return problems;
}
