/**
 * The widget's visitor-token source (anonymous mode, design §14), in Node against a fake API
 * that issues real challenges and checks the real solution: one mint for any number of callers,
 * the token kept and reused until the API refuses it, and failures as the contract's codes.
 * The solver here is altcha-lib's own; the widget's worker solver runs in Chromium
 * (test/browser/visitor.test.ts).
 */
import { solveChallenge } from 'altcha-lib/v1';
import { ChatError } from '../../../widget/src/errors.js';
import { visitorTokens, type PowSolver, type TokenStore } from '../../../widget/src/visitor.js';
import {
  challengeKey,
  createVisitorChallenge,
  verifyVisitorSolution,
} from '../../../lambdas/lib/visitors/challenge.js';

const API = 'https://api.example.com/prod/';
const KEY = challengeKey('widget-signing-secret-for-the-widget-test-0123');
const MAX = 2000;

const solve: PowSolver = async (c) => {
  const found = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  return found ? { number: found.number, took: found.took, worker: false } : null;
};

class MemoryStore implements TokenStore {
  readonly values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, value);
  }
  removeItem(key: string): void {
    this.values.delete(key);
  }
}

/** A fake API: real challenges, real verification; `mintStatus` overrides the mint's answer. */
function fakeApi(options: { mintStatus?: number; challengeStatus?: number } = {}) {
  const calls: { path: string; headers: Record<string, string>; body?: unknown }[] = [];
  let minted = 0;
  const fetchFn = (async (url: URL | string, init?: RequestInit) => {
    const path = new URL(String(url)).pathname;
    const headers = init?.headers as Record<string, string>;
    calls.push({
      path,
      headers,
      body: init?.body === undefined ? undefined : (JSON.parse(init.body as string) as unknown),
    });
    if (path === '/prod/v1/visitor-tokens/challenge') {
      if (options.challengeStatus !== undefined) {
        return Response.json(
          { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'x' } },
          { status: options.challengeStatus, headers: { 'Retry-After': '7' } },
        );
      }
      return Response.json(await createVisitorChallenge(KEY, MAX, Date.now()));
    }
    if (options.mintStatus !== undefined) return new Response('', { status: options.mintStatus });
    const { pow } = JSON.parse(init?.body as string) as { pow: string };
    await verifyVisitorSolution(pow, [KEY], MAX, Date.now());
    minted += 1;
    return Response.json(
      {
        token: `token-${minted}`,
        tokenType: 'Bearer',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        visitorId: `v_${minted}`,
      },
      { status: 201 },
    );
  }) as typeof fetch;
  return { fetch: fetchFn, calls, minted: () => minted };
}

describe('visitorTokens', () => {
  it('should mint once for concurrent callers, paying with a solved challenge, and keep the token', async () => {
    // Prepare
    const api = fakeApi();
    const store = new MemoryStore();
    const tokens = visitorTokens({ apiUrl: API, widgetKey: 'wk', solve, storage: () => store, fetch: api.fetch });

    // Act
    const got = await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()]);
    const later = await tokens.getToken();

    // Assess
    expect(got).toEqual(['token-1', 'token-1', 'token-1']);
    expect(later).toBe('token-1');
    expect(api.calls.map((c) => c.path)).toEqual(['/prod/v1/visitor-tokens/challenge', '/prod/v1/visitor-tokens']);
    expect(api.calls.every((c) => c.headers['X-Widget-Api-Key'] === 'wk')).toBe(true);
    expect(JSON.parse(store.getItem('chat-widget:visitor-token') ?? '{}')).toMatchObject({ token: 'token-1' });
  });

  it('should reuse a stored token from an earlier page load and mint anew once it is forgotten', async () => {
    // Prepare
    const api = fakeApi();
    const store = new MemoryStore();
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    store.setItem('chat-widget:visitor-token', JSON.stringify({ token: 'stored', expiresAt }));
    const tokens = visitorTokens({ apiUrl: API, widgetKey: 'wk', solve, storage: () => store, fetch: api.fetch });

    // Act
    const first = await tokens.getToken();
    tokens.forget();
    const second = await tokens.getToken();

    // Assess
    expect([first, second]).toEqual(['stored', 'token-1']);
    expect(api.minted()).toBe(1);
  });

  it('should not use a stored token that expires within a minute', async () => {
    // Prepare
    const api = fakeApi();
    const store = new MemoryStore();
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    store.setItem('chat-widget:visitor-token', JSON.stringify({ token: 'stale', expiresAt }));

    // Act
    const token = await visitorTokens({
      apiUrl: API,
      widgetKey: 'wk',
      solve,
      storage: () => store,
      fetch: api.fetch,
    }).getToken();

    // Assess
    expect(token).toBe('token-1');
  });

  it.each<[string, Parameters<typeof fakeApi>[0], string, number]>([
    ['a refused challenge', { challengeStatus: 429 }, 'RATE_LIMIT_EXCEEDED', 429],
    ['a WAF challenge answer (202) on minting', { mintStatus: 202 }, 'TOKEN_UNAVAILABLE', 202],
  ])('should turn %s into a ChatError', async (_name, options, code, status) => {
    // Prepare
    const api = fakeApi(options);
    const tokens = visitorTokens({
      apiUrl: API,
      widgetKey: 'wk',
      solve,
      storage: () => new MemoryStore(),
      fetch: api.fetch,
    });

    // Act
    const error: unknown = await Promise.resolve(tokens.getToken()).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ChatError);
    expect([(error as ChatError).code, (error as ChatError).status]).toEqual([code, status]);
  });

  it('should pay with the WAF token instead of a proof of work when given a WAF token source (visitorChallenge=waf)', async () => {
    // Prepare: this fake mints for a WAF token alone (deployed, the WAF rule checks it first).
    const calls: { path: string; headers: Record<string, string>; body: unknown }[] = [];
    const fetchFn = (async (url: URL | string, init?: RequestInit) => {
      calls.push({
        path: new URL(String(url)).pathname,
        headers: init?.headers as Record<string, string>,
        body: JSON.parse(init?.body as string) as unknown,
      });
      return Response.json(
        { token: 'waf-paid', tokenType: 'Bearer', expiresAt: new Date(Date.now() + 3600_000).toISOString() },
        { status: 201 },
      );
    }) as typeof fetch;
    const unused: PowSolver = () => Promise.reject(new Error('no proof of work with a WAF token source'));
    const tokens = visitorTokens({
      apiUrl: API,
      widgetKey: 'wk',
      solve: unused,
      storage: () => new MemoryStore(),
      fetch: fetchFn,
      wafToken: async () => 'aws-waf-token-value',
    });

    // Act
    const token = await tokens.getToken();

    // Assess: no challenge fetched; one mint carrying the WAF token and an empty body.
    expect(token).toBe('waf-paid');
    expect(calls.map((c) => [c.path, c.body])).toEqual([['/prod/v1/visitor-tokens', {}]]);
    expect(calls[0]?.headers).toMatchObject({ 'X-Aws-Waf-Token': 'aws-waf-token-value', 'X-Widget-Api-Key': 'wk' });
  });

  it('should still work when storage throws', async () => {
    // Prepare
    const api = fakeApi();
    const broken = () => {
      throw new Error('SecurityError');
    };

    // Act
    const token = await visitorTokens({
      apiUrl: API,
      widgetKey: 'wk',
      solve,
      storage: broken,
      fetch: api.fetch,
    }).getToken();

    // Assess
    expect(token).toBe('token-1');
  });
});
