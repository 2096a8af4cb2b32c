/**
 * `npm run verify -- <api-url> [--widget-key K] [--server-key K] [--origin O]`: a self-test of a
 * deployed stack (or `npm start`, or `start:synth`) from outside, as an operator runs it after a
 * deployment. Read-mostly: with keys it mints one token for a `verify-…` user, sends one chat turn
 * on a fresh `verify-…` session (kept until its TTL) and revokes that token; nothing else changes.
 * Prints one line per check and a summary; exits 1 when any check fails, 2 on bad arguments.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One request, with exactly the headers given (`fetch` would refuse to set `Origin`). */
function send(url: URL, method: string, headers: Record<string, string> = {}, body?: unknown): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...headers,
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** What must never reach a client: stack frames, runtime paths, AWS resource names and ARNs, exception classes. */
const LEAKS: readonly [string, RegExp][] = [
  ['a stack frame', /\bat [\w.$<>]+ \(|\bat (?:file:\/\/|\/)[^\s]+:\d+:\d+/],
  ['a runtime path', /\/var\/task|\/var\/runtime|node_modules|lambdas\/|\.m?js:\d+/],
  ['an ARN', /arn:aws[\w-]*:/],
  ['an exception class', /\b\w+(?:Exception|Error): /],
  ['an AWS resource name', /ChatWidget-|Fn[a-z]+Function[0-9A-F]{8}|Tables\w+[0-9A-F]{8}/],
];

/** The headers design §6 puts on every response; HSTS too over https. */
function headerProblems(reply: Reply, https: boolean): string[] {
  const want: Record<string, RegExp> = {
    'x-content-type-options': /^nosniff$/,
    'x-frame-options': /^DENY$/,
    'content-security-policy': /frame-ancestors 'none'/,
    'referrer-policy': /^no-referrer$/,
    'cache-control': /no-store/,
    ...(https ? { 'strict-transport-security': /max-age=\d{8,}/ } : {}),
  };
  const problems = Object.entries(want)
    .filter(([name, pattern]) => !pattern.test(String(reply.headers[name] ?? '')))
    .map(([name]) => `${name} is ${JSON.stringify(reply.headers[name] ?? null)}`);
  if (reply.headers['x-powered-by'] !== undefined) problems.push('x-powered-by is present');
  if (/\d/.test(String(reply.headers.server ?? ''))) problems.push('server names a version');
  return problems;
}

interface Options {
  readonly base: string;
  readonly widgetKey?: string;
  readonly serverKey?: string;
  readonly origin?: string;
}

/** Runs every check; returns one line per check, each starting with PASS or FAIL. */
export async function verify(options: Options): Promise<string[]> {
  const lines: string[] = [];
  const replies: Reply[] = [];
  const base = options.base.replace(/\/+$/, '');
  const https = base.startsWith('https:');
  const at = (path: string) => new URL(`${base}${path}`);
  const call = async (method: string, path: string, headers?: Record<string, string>, body?: unknown) => {
    const reply = await send(at(path), method, headers, body);
    replies.push(reply);
    return reply;
  };
  const check = async (name: string, run: () => Promise<string | undefined>) => {
    try {
      const problem = await run();
      lines.push(problem === undefined ? `PASS ${name}` : `FAIL ${name}: ${problem}`);
    } catch (error) {
      lines.push(`FAIL ${name}: ${(error as Error).message}`);
    }
  };
  const nonce = randomBytes(6).toString('hex');
  const foreign = 'https://verify-foreign-origin.invalid';
  const chatBody = { sessionId: `verify-${nonce}`, message: 'verify: hello' };
  const status = (reply: Reply, expected: number[]) =>
    expected.includes(reply.status) ? undefined : `status ${reply.status}, expected ${expected.join(' or ')}`;
  const headersOk = (reply: Reply) => headerProblems(reply, https).join('; ') || undefined;

  let health: Reply | undefined;
  await check('health answers 200 {"status":"ok"}', async () => {
    health = await call('GET', '/health');
    return (
      status(health, [200]) ??
      ((JSON.parse(health.text) as { status?: unknown }).status === 'ok' ? undefined : `body ${health.text}`)
    );
  });
  await check('security headers on a success (GET /health)', async () =>
    headersOk(health ?? (await call('GET', '/health'))),
  );
  const missing = await call('POST', '/v1/chat', {}, chatBody).catch(() => undefined);
  await check('security headers on an error (POST /v1/chat without a key)', async () =>
    missing ? headersOk(missing) : 'no answer',
  );
  await check('security headers on a 404 (unknown route)', async () => {
    const reply = await call('GET', `/verify-no-such-route-${nonce}`);
    return status(reply, [404]) ?? headersOk(reply);
  });
  const preflightOrigin = options.origin ?? foreign;
  await check(`security headers on a preflight (OPTIONS /v1/chat from ${preflightOrigin})`, async () => {
    const reply = await call('OPTIONS', '/v1/chat', {
      Origin: preflightOrigin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type, x-widget-api-key',
    });
    return headersOk(reply);
  });
  if (options.origin !== undefined) {
    await check(`CORS allows ${options.origin}`, async () => {
      const reply = await call('OPTIONS', '/v1/chat', {
        Origin: options.origin as string,
        'Access-Control-Request-Method': 'POST',
      });
      const allowed = reply.headers['access-control-allow-origin'];
      return allowed === options.origin
        ? undefined
        : `Access-Control-Allow-Origin is ${JSON.stringify(allowed ?? null)}`;
    });
  }
  await check('CORS refuses a foreign origin (preflight and request)', async () => {
    const preflight = await call('OPTIONS', '/v1/chat', { Origin: foreign, 'Access-Control-Request-Method': 'POST' });
    const request = await call('POST', '/v1/chat', { Origin: foreign }, chatBody);
    for (const reply of [preflight, request]) {
      const allowed = reply.headers['access-control-allow-origin'];
      if (allowed !== undefined) return `Access-Control-Allow-Origin ${JSON.stringify(allowed)} for a foreign origin`;
      if (reply.headers['access-control-allow-credentials'] !== undefined) return 'credentials allowed';
    }
    return undefined;
  });
  await check('a missing widget key is refused (401)', async () => (missing ? status(missing, [401]) : 'no answer'));
  await check('a wrong widget key is refused (401)', async () =>
    status(
      await call('POST', '/v1/chat', { 'X-Widget-Api-Key': randomBytes(32).toString('base64url') }, chatBody),
      [401],
    ),
  );
  await check('a wrong bearer key is refused on an admin route (401)', async () =>
    status(
      await call('GET', '/v1/admin/audit', { Authorization: `Bearer ${randomBytes(32).toString('base64url')}` }),
      [401],
    ),
  );
  await check('a missing bearer key is refused on POST /v1/tokens (401)', async () =>
    status(await call('POST', '/v1/tokens', {}, { userId: `verify-${nonce}` }), [401]),
  );

  if (options.widgetKey !== undefined && options.serverKey !== undefined) {
    const widget = { 'X-Widget-Api-Key': options.widgetKey, ...(options.origin ? { Origin: options.origin } : {}) };
    let token = '';
    const withToken = () => ({ ...widget, Authorization: `Bearer ${token}` });
    await check('token round trip: mint (POST /v1/tokens)', async () => {
      const reply = await call(
        'POST',
        '/v1/tokens',
        { Authorization: `Bearer ${options.serverKey}` },
        {
          userId: `verify-${nonce}`,
          expiresInSeconds: 300,
        },
      );
      token = reply.status === 201 ? ((JSON.parse(reply.text) as { token?: string }).token ?? '') : '';
      return status(reply, [201]) ?? (token === '' ? 'no token in the answer' : undefined);
    });
    await check('token round trip: chat (POST /v1/chat)', async () =>
      status(await call('POST', '/v1/chat', withToken(), chatBody), [200]),
    );
    await check('token round trip: history (GET /v1/sessions/{id}/messages)', async () => {
      const reply = await call('GET', `/v1/sessions/${chatBody.sessionId}/messages`, withToken());
      const items = reply.status === 200 ? ((JSON.parse(reply.text) as { items?: unknown[] }).items ?? []) : [];
      return status(reply, [200]) ?? (items.length >= 2 ? undefined : `${items.length} messages, expected the turn`);
    });
    await check('token round trip: revoke (POST /v1/tokens/revoke)', async () =>
      status(await call('POST', '/v1/tokens/revoke', withToken()), [204]),
    );
    await check('token round trip: the revoked token is refused (401)', async () =>
      status(await call('POST', '/v1/chat', withToken(), chatBody), [401]),
    );
  } else {
    lines.push('SKIP token round trip: pass --widget-key and --server-key to run it');
  }

  await check('no stack trace or internal name in any answer', async () => {
    for (const reply of replies) {
      const text = `${reply.text}\n${JSON.stringify(reply.headers)}`;
      for (const [what, pattern] of LEAKS)
        if (pattern.test(text)) return `${what} in an answer (status ${reply.status})`;
    }
    return undefined;
  });
  return lines;
}

const VALUE_OPTIONS = new Set(['--widget-key', '--server-key', '--origin']);

/**
 * `--name value` as `--name=value`: keys are base64url and may start with `-`, which `parseArgs`
 * would otherwise refuse as an ambiguous option value.
 */
export function joinOptionValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (VALUE_OPTIONS.has(arg) && value !== undefined) {
      joined.push(`${arg}=${value}`);
      i += 1;
    } else joined.push(arg);
  }
  return joined;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinOptionValues(process.argv.slice(2)),
      allowPositionals: true,
      options: { 'widget-key': { type: 'string' }, 'server-key': { type: 'string' }, origin: { type: 'string' } },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const [base] = parsed.positionals;
  if (base === undefined || !/^https?:\/\//.test(base) || parsed.positionals.length !== 1) {
    process.stderr.write('usage: npm run verify -- <api-url> [--widget-key K] [--server-key K] [--origin O]\n');
    process.exit(2);
  }
  const lines = await verify({
    base,
    ...(parsed.values['widget-key'] === undefined ? {} : { widgetKey: parsed.values['widget-key'] }),
    ...(parsed.values['server-key'] === undefined ? {} : { serverKey: parsed.values['server-key'] }),
    ...(parsed.values.origin === undefined ? {} : { origin: parsed.values.origin }),
  });
  for (const line of lines) process.stdout.write(`${line}\n`);
  const failed = lines.filter((line) => line.startsWith('FAIL')).length;
  const passed = lines.filter((line) => line.startsWith('PASS')).length;
  process.stdout.write(`verify: ${passed} passed, ${failed} failed against ${base}\n`);
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
