/**
 * Strict mode (design §5, §6, §11): `APP_ENV=production` refuses to start with `*` or missing
 * origins and with weak or repeated secrets, naming the problem but never the value; a correctly
 * configured production server sends HSTS. Development starts with a weak secret but warns loudly.
 */
import { HSTS, http, postJson, SECURITY_HEADERS, type HttpResponse } from '../helpers/http.js';
import { runServerExpectingExit, startServer, type RunningServer } from '../helpers/local-server.js';
import { generateSecret } from '../../lambdas/lib/secret-strength.js';

const ORIGIN = 'https://app.example.com';
/** A refusal comes within seconds; a server that wrongly starts is killed after this. */
const REFUSAL_TIMEOUT_MS = 20_000;

/** Four fresh, strong, distinct secrets as environment variables. */
const strongSecrets = (): Record<string, string> => ({
  WIDGET_API_KEY: generateSecret(),
  ADMIN_API_KEY: generateSecret(),
  SERVER_API_KEY: generateSecret(),
  WIDGET_SIGNING_SECRET: generateSecret(),
});

/** The bullet a configuration refusal prints for `name` ("  - NAME …"). */
const problemLine = (name: string): RegExp => new RegExp(`^\\s+- ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm');

describe('production mode', () => {
  describe('start-up refusals', () => {
    it.each<{ kind: string; env: Record<string, string>; names: string }>([
      { kind: 'CORS_ORIGIN=*', env: { CORS_ORIGIN: '*' }, names: 'CORS_ORIGIN' },
      { kind: 'a * among exact origins', env: { CORS_ORIGIN: `${ORIGIN},*` }, names: 'CORS_ORIGIN' },
      { kind: 'no CORS_ORIGIN', env: {}, names: 'CORS_ORIGIN' },
      { kind: 'an empty CORS_ORIGIN', env: { CORS_ORIGIN: '' }, names: 'CORS_ORIGIN' },
      { kind: 'a blank CORS_ORIGIN', env: { CORS_ORIGIN: ' , ' }, names: 'CORS_ORIGIN' },
      { kind: 'ADMIN_CORS_ORIGIN=*', env: { CORS_ORIGIN: ORIGIN, ADMIN_CORS_ORIGIN: '*' }, names: 'ADMIN_CORS_ORIGIN' },
    ])('It should refuse to start with $kind and name $names', async ({ env, names }) => {
      // Prepare
      const secrets = strongSecrets();

      // Act
      const { code, output } = await runServerExpectingExit(
        { APP_ENV: 'production', ...secrets, ...env },
        REFUSAL_TIMEOUT_MS,
      );

      // Assess
      expect(code).not.toBeNull();
      expect(code).not.toBe(0);
      expect(output).toMatch(problemLine(names));
      expect(output).not.toMatch(/listening on/);
      for (const value of Object.values(secrets)) expect(output).not.toContain(value);
    });

    // The secrets are checked before DynamoDB is touched, so these runs point at an endpoint that
    // does not answer instead of starting an engine each (a server that wrongly started would
    // still listen, and fail the test by not exiting).
    const noEngine = { DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' };

    it.each([
      { kind: 'a dictionary word', weak: 'password1234password1234password1234' },
      { kind: 'one repeated character', weak: 'a'.repeat(40) },
      { kind: 'an alphabet sequence', weak: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ' },
      { kind: 'fewer than 32 characters', weak: 'Xq7#pL2@wN9!' },
    ])('It should refuse a WIDGET_API_KEY with $kind, naming widget-api-key but not its value', async ({ weak }) => {
      // Act
      const { code, output } = await runServerExpectingExit(
        { APP_ENV: 'production', CORS_ORIGIN: ORIGIN, ...strongSecrets(), WIDGET_API_KEY: weak, ...noEngine },
        REFUSAL_TIMEOUT_MS,
      );

      // Assess
      expect(code).not.toBeNull();
      expect(code).not.toBe(0);
      expect(output).toMatch(problemLine('widget-api-key (current)'));
      expect(output).not.toMatch(/- (?:admin-api-key|server-api-key|widget-signing-secret) /);
      expect(output).not.toContain(weak);
      expect(output).not.toMatch(/listening on/);
    });

    it('It should refuse two secrets with the same value, naming both but printing neither', async () => {
      // Prepare
      const secrets = strongSecrets();
      const shared = secrets.WIDGET_API_KEY!;

      // Act
      const { code, output } = await runServerExpectingExit(
        { APP_ENV: 'production', CORS_ORIGIN: ORIGIN, ...secrets, ADMIN_API_KEY: shared, ...noEngine },
        REFUSAL_TIMEOUT_MS,
      );

      // Assess
      expect(code).not.toBeNull();
      expect(code).not.toBe(0);
      expect(output).toMatch(/admin-api-key \(current\) has the same value as widget-api-key \(current\)/);
      expect(output).not.toContain(shared);
    });
  });

  describe('a correctly configured production server', () => {
    let server: RunningServer;

    beforeAll(async () => {
      server = await startServer({ APP_ENV: 'production', CORS_ORIGIN: ORIGIN });
    });
    afterAll(async () => {
      await server.stop();
    });

    it.each([
      { kind: '200 /health', status: 200, send: () => http(`${server.url}/health`) },
      {
        kind: '204 preflight',
        status: 204,
        send: () =>
          http(`${server.url}/v1/chat`, {
            method: 'OPTIONS',
            headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' },
          }),
      },
      {
        kind: '401',
        status: 401,
        send: () => postJson(`${server.url}/v1/chat`, { sessionId: 's', message: 'hi' }, { Origin: ORIGIN }),
      },
      {
        kind: '403 disallowed origin',
        status: 403,
        send: () => http(`${server.url}/health`, { headers: { Origin: 'https://evil.example.net' } }),
      },
      { kind: '404', status: 404, send: () => http(`${server.url}/nope`) },
      { kind: '405', status: 405, send: () => http(`${server.url}/v1/chat`) },
    ])('It should send Strict-Transport-Security on $kind', async ({ status, send }) => {
      // Act
      const response: HttpResponse = await send();

      // Assess
      expect(response.status).toBe(status);
      expect(response.headers['strict-transport-security']).toBe(HSTS);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers[name]).toBe(value);
    });

    it('It should start in production mode without a weak-secret warning', () => {
      // Act
      const output = server.output();

      // Assess
      expect(output).toMatch(/environment: production/);
      expect(output).not.toMatch(/WEAK SECRETS/);
      for (const secret of Object.values(server.secrets)) expect(output).not.toContain(secret);
    });
  });

  describe('development with a weak secret', () => {
    const weak = 'password1234password1234password1234';
    let server: RunningServer;

    beforeAll(async () => {
      server = await startServer({ WIDGET_API_KEY: weak });
    });
    afterAll(async () => {
      await server.stop();
    });

    it('It should start but warn loudly, naming widget-api-key but not its value', async () => {
      // Act
      const health = await http(`${server.url}/health`);
      const output = server.output();

      // Assess
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBeUndefined();
      expect(output).toMatch(/WEAK SECRETS: [^\n]*widget-api-key \(current\)/);
      expect(output).toMatch(/environment: development/);
      expect(output).not.toContain(weak);
    });
  });
});
