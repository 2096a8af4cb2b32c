import { jest } from '@jest/globals';
import { createLogger, redact } from '../../../lambdas/lib/logger.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3MzY5NDI0MDB9.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

describe('redact', () => {
  it.each([
    'authorization',
    'Authorization',
    'x-widget-api-key',
    'X-Api-Key',
    'apiKey',
    'api_key',
    'adminApiKey',
    'token',
    'accessToken',
    'refresh_token',
    'secret',
    'clientSecret',
    'password',
    'cookie',
    'set-cookie',
    'signature',
    'message',
    'content',
    'body',
    'delta',
    'text',
  ])('It should mask the value of the key %j', (key) => {
    // Act
    const result = redact({ [key]: 'sensitive-value', keep: 'visible' });

    // Assess
    expect(result).toEqual({ [key]: '[REDACTED]', keep: 'visible' });
  });

  it('It should mask sensitive keys whatever the type of their value', () => {
    // Act
    const result = redact({ token: { nested: 'x' }, secret: ['a', 'b'], password: 12345, cookie: null });

    // Assess
    expect(result).toEqual({ token: '[REDACTED]', secret: '[REDACTED]', password: '[REDACTED]', cookie: '[REDACTED]' });
  });

  it('It should mask sensitive keys at any depth, in objects and arrays', () => {
    // Act
    const result = redact({
      request: { headers: { authorization: 'Bearer abc', 'x-widget-api-key': 'k', accept: 'json' } },
      turns: [
        { role: 'user', content: 'my address is…' },
        { role: 'assistant', content: 'noted' },
      ],
      deep: { a: { b: { c: { password: 'p', ok: 1 } } } },
    });

    // Assess
    expect(result).toEqual({
      request: { headers: { authorization: '[REDACTED]', 'x-widget-api-key': '[REDACTED]', accept: 'json' } },
      turns: [
        { role: 'user', content: '[REDACTED]' },
        { role: 'assistant', content: '[REDACTED]' },
      ],
      deep: { a: { b: { c: { password: '[REDACTED]', ok: 1 } } } },
    });
  });

  it.each(['messageCount', 'sessionId', 'requestId', 'route', 'status', 'contentType', 'textLength', 'role'])(
    'It should keep the non-sensitive key %j',
    (key) => {
      // Act
      const result = redact({ [key]: 'kept' });

      // Assess
      expect(result).toEqual({ [key]: 'kept' });
    },
  );

  it.each([
    ['a JWT inside free text', `verifying ${JWT} failed`, 'verifying [REDACTED] failed'],
    ['a bare JWT', JWT, '[REDACTED]'],
    ['a JWT without a signature', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.', '[REDACTED]'],
    ['a bearer credential', 'header was Bearer s3cr3t-key-value ok', 'header was [REDACTED] ok'],
    ['a lower-case bearer credential', 'bearer abc.def', '[REDACTED]'],
    ['two credentials', `Bearer one and ${JWT}`, '[REDACTED] and [REDACTED]'],
  ])('It should mask %s', (_label, input, expected) => {
    // Act
    const result = redact(input);

    // Assess
    expect(result).toBe(expected);
  });

  it('It should mask credential-shaped strings under non-sensitive keys and in arrays', () => {
    // Act
    const result = redact({ note: `got ${JWT}`, list: [`Bearer x`, 'plain'] });

    // Assess
    expect(result).toEqual({ note: 'got [REDACTED]', list: ['[REDACTED]', 'plain'] });
  });

  it('It should keep ordinary strings, numbers, booleans, null and undefined', () => {
    // Act
    const result = redact({ a: 'hello eyJ', b: 1, c: true, d: null, e: undefined });

    // Assess
    expect(result).toEqual({ a: 'hello eyJ', b: 1, c: true, d: null, e: undefined });
  });

  it('It should turn an Error into name, message and stack, masking credentials in them', () => {
    // Prepare
    const error = new TypeError(`could not verify ${JWT}`);

    // Act
    const result = redact({ error }) as { error: { name: string; message: string; stack: string } };

    // Assess
    expect(result.error.name).toBe('TypeError');
    expect(result.error.message).toBe('could not verify [REDACTED]');
    expect(result.error.stack).toContain('could not verify [REDACTED]');
    expect(JSON.stringify(result)).not.toContain(JWT);
  });

  it('It should bound the depth it walks', () => {
    // Prepare
    let deep: Record<string, unknown> = { password: 'p' };
    for (let i = 0; i < 20; i += 1) deep = { level: deep };

    // Act
    const serialized = JSON.stringify(redact(deep));

    // Assess
    expect(serialized).toContain('[TRUNCATED]');
    expect(serialized.match(/level/g)).toHaveLength(8);
  });

  it('It should terminate on a cyclic object', () => {
    // Prepare
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;

    // Act
    const serialized = JSON.stringify(redact(cyclic));

    // Assess
    expect(serialized).toContain('[TRUNCATED]');
  });

  it('It should not modify its input', () => {
    // Prepare
    const input = { authorization: 'Bearer abc', nested: { token: 't' } };

    // Act
    redact(input);

    // Assess
    expect(input).toEqual({ authorization: 'Bearer abc', nested: { token: 't' } });
  });
});

/** Runs `fn` and returns everything written to stdout and stderr meanwhile. */
function captureOutput(fn: () => void): string {
  const chunks: string[] = [];
  const sink = (chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(sink);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(sink);
  try {
    fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('createLogger', () => {
  it('It should redact attributes and the message of every line it writes', () => {
    // Prepare
    const logger = createLogger('info');

    // Act
    const output = captureOutput(() =>
      logger.warn(`login with Bearer ${JWT}`, {
        headers: { authorization: `Bearer ${JWT}`, 'x-widget-api-key': 'widget-key-value' },
        body: '{"message":"my secret question"}',
        sessionId: 's-1',
      }),
    );

    // Assess
    expect(output).toContain('s-1');
    expect(output).not.toContain(JWT.slice(0, 40));
    expect(output).not.toContain('widget-key-value');
    expect(output).not.toContain('my secret question');
    const line = JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line.message).toBe('login with [REDACTED]');
    expect(line.body).toBe('[REDACTED]');
  });

  it.each([
    ['silent', ''],
    ['error', 'boom'],
  ])('It should honour the %s level for an error line', (level, expected) => {
    // Prepare
    const logger = createLogger(level as 'silent' | 'error');

    // Act
    const output = captureOutput(() => logger.error('boom', { a: 1 }));

    // Assess
    expect(output === '' ? '' : (JSON.parse(output) as { message: string }).message).toBe(expected);
  });
});
