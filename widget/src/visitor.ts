/**
 * Anonymous mode (design §14): with no `getToken` from the page, the widget gets a visitor token
 * of its own. It fetches a challenge, solves it (`pow.ts`), mints the token with
 * `POST /v1/visitor-tokens` and keeps it in `sessionStorage` until shortly before it expires.
 * Deployed with `visitorChallenge=waf`, it instead sends a WAF token (`X-Aws-Waf-Token`, from
 * `waf.ts`); the proof of work is then the WAF's.
 */
import { errorFrom, type GetToken } from './client.js';
import { ChatError } from './errors.js';
import type { KeyValueStore } from './session.js';

/** A challenge as `GET /v1/visitor-tokens/challenge` returns it. */
export interface PowChallenge {
  readonly algorithm: string;
  readonly challenge: string;
  readonly maxnumber: number;
  readonly salt: string;
  readonly signature: string;
}

/** A solution: the number, how long the search took (ms), and whether a worker found it. */
export interface PowSolution {
  readonly number: number;
  readonly took: number;
  readonly worker: boolean;
}

/** Solves a challenge (`solvePow` of `pow.ts` in the browser); null when it has no solution. */
export type PowSolver = (challenge: PowChallenge) => Promise<PowSolution | null>;

/** The base64 payload `POST /v1/visitor-tokens` takes as `pow`. */
export function powPayload(c: PowChallenge, solution: PowSolution): string {
  return btoa(
    JSON.stringify({
      algorithm: c.algorithm,
      challenge: c.challenge,
      number: solution.number,
      salt: c.salt,
      signature: c.signature,
      took: solution.took,
    }),
  );
}

export interface VisitorTokenOptions {
  /** The API base URL, ending in `/`. */
  readonly apiUrl: string;
  readonly widgetKey: string;
  /** Solves the proof of work (`solvePow`). */
  readonly solve: PowSolver;
  /** A WAF token source (`wafTokens` of the web ACL's integration URL). @default none: proof of work */
  readonly wafToken?: () => Promise<string>;
  readonly storage: () => TokenStore;
  readonly fetch?: typeof fetch;
}

/** Where the token is kept (`sessionStorage`). */
export interface TokenStore extends KeyValueStore {
  removeItem(key: string): void;
}

/** A token source for the chat client, and a way to drop the current token once the API refused it. */
export interface VisitorTokens {
  readonly getToken: GetToken;
  readonly forget: () => void;
}

const STORAGE_KEY = 'chat-widget:visitor-token';
/** A stored token this close to its expiry is replaced rather than used. */
const EXPIRY_MARGIN_MS = 60_000;

interface Stored {
  token: string;
  expiresAt: string;
}

/** Creates the visitor-token source of one widget. */
export function visitorTokens(options: VisitorTokenOptions): VisitorTokens {
  const doFetch = (input: URL, init: RequestInit) => (options.fetch ?? fetch)(input, init);
  const headers = { 'X-Widget-Api-Key': options.widgetKey };
  let pending: Promise<string> | undefined;

  const read = (): string | undefined => {
    try {
      const stored = JSON.parse(options.storage().getItem(STORAGE_KEY) ?? 'null') as Stored | null;
      if (stored && Date.parse(stored.expiresAt) - EXPIRY_MARGIN_MS > Date.now()) return stored.token;
    } catch {
      // Unreadable or disabled storage: mint a new token.
    }
    return undefined;
  };
  const write = (value: Stored | undefined): void => {
    try {
      if (value === undefined) options.storage().removeItem(STORAGE_KEY);
      else options.storage().setItem(STORAGE_KEY, JSON.stringify(value));
    } catch {
      // Memory only: the next page load mints a new token.
    }
  };

  const call = async (path: string, init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await doFetch(new URL(path, options.apiUrl), { ...init, credentials: 'omit' });
    } catch {
      throw new ChatError('NETWORK_ERROR', 0);
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  };

  /** The body and headers that pay for a token: a solved challenge, or the WAF token. */
  const payment = async (): Promise<{ body: object; headers: Record<string, string> }> => {
    if (options.wafToken !== undefined) {
      return { body: {}, headers: { 'X-Aws-Waf-Token': await options.wafToken() } };
    }
    const challenge = (await (await call('v1/visitor-tokens/challenge', { headers })).json()) as PowChallenge;
    const solution = await options.solve(challenge);
    if (!solution) throw new ChatError('TOKEN_UNAVAILABLE', 0);
    return { body: { pow: powPayload(challenge, solution) }, headers: {} };
  };

  const mint = async (): Promise<string> => {
    const paid = await payment();
    const response = await call('v1/visitor-tokens', {
      method: 'POST',
      headers: { ...headers, ...paid.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(paid.body),
    });
    // A 202 is the WAF's own challenge answer: its integration script did not give a token.
    if (response.status !== 201) throw new ChatError('TOKEN_UNAVAILABLE', response.status);
    const minted = (await response.json()) as Stored;
    write({ token: minted.token, expiresAt: minted.expiresAt });
    return minted.token;
  };

  return {
    getToken: () => {
      const stored = read();
      if (stored !== undefined) return stored;
      // One mint at a time, however many turns ask.
      pending ??= mint().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    forget: () => write(undefined),
  };
}
