/**
 * The visitor-token proof of work in the browser (design §14): find the number n in 0..maxnumber
 * with SHA-256(salt + n) equal to the challenge, the ALTCHA format that the server builds with
 * altcha-lib. It runs in a Web Worker made from a Blob URL, so the page stays responsive; the
 * page's CSP must then allow `worker-src blob:` (and, with Trusted Types, the `chat-widget`
 * policy). Where no worker can be started it runs on the main thread, a few hashes at a time.
 */

import type { PowChallenge, PowSolution } from './visitor.js';

/**
 * The search. Its source text is also the worker's program, so it must refer to nothing outside
 * itself. Hashes go out in batches: one `digest` call at a time would spend most of the time
 * waiting on promise turns rather than hashing.
 */
const search = async (challenge: string, salt: string, max: number): Promise<number | null> => {
  const encoder = new TextEncoder();
  const BATCH = 256;
  const target = new Uint8Array(32);
  for (let i = 0; i < 32; i += 1) target[i] = parseInt(challenge.slice(i * 2, i * 2 + 2), 16);
  for (let start = 0; start <= max; start += BATCH) {
    const end = Math.min(max, start + BATCH - 1);
    const digests: Promise<ArrayBuffer>[] = [];
    for (let n = start; n <= end; n += 1) digests.push(crypto.subtle.digest('SHA-256', encoder.encode(salt + n)));
    const done = await Promise.all(digests);
    for (let i = 0; i < done.length; i += 1) {
      const bytes = new Uint8Array(done[i] as ArrayBuffer);
      let j = 0;
      while (j < 32 && bytes[j] === target[j]) j += 1;
      if (j === 32) return start + i;
    }
  }
  return null;
};

const WORKER_SOURCE = `const search = ${search.toString()};
onmessage = async (event) => {
  const { challenge, salt, max } = event.data;
  postMessage(await search(challenge, salt, max));
};`;

interface TrustedTypesLike {
  createPolicy(
    name: string,
    rules: { createScriptURL: (url: string) => string },
  ): {
    createScriptURL(url: string): unknown;
  };
}

let policy: ReturnType<TrustedTypesLike['createPolicy']> | undefined;

/** The Blob URL as a page with Trusted Types accepts it (only `blob:` URLs pass the policy, made once). */
function scriptUrl(url: string): string {
  const trustedTypes = (globalThis as { trustedTypes?: TrustedTypesLike }).trustedTypes;
  if (!trustedTypes) return url;
  policy ??= trustedTypes.createPolicy('chat-widget', {
    createScriptURL: (value) => {
      if (!value.startsWith('blob:')) throw new TypeError('chat-widget: only its own worker');
      return value;
    },
  });
  return policy.createScriptURL(url) as string;
}

/** Runs the search in a worker; rejects when no worker can run here (CSP, old browser). */
function inWorker(c: PowChallenge): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    let worker: Worker;
    try {
      worker = new Worker(scriptUrl(url));
    } catch {
      URL.revokeObjectURL(url);
      reject(new Error('no worker here'));
      return;
    }
    const finish = () => {
      worker.terminate();
      URL.revokeObjectURL(url);
    };
    worker.onmessage = (event: MessageEvent<number | null>) => {
      finish();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish();
      reject(new Error('worker failed'));
    };
    worker.postMessage({ challenge: c.challenge, salt: c.salt, max: c.maxnumber });
  });
}

/** Solves `c`; null when it has no solution (a challenge not made for us). */
export async function solvePow(c: PowChallenge): Promise<PowSolution | null> {
  const started = Date.now();
  let worker = true;
  let found: number | null;
  try {
    found = await inWorker(c);
  } catch {
    worker = false;
    found = await search(c.challenge, c.salt, c.maxnumber);
  }
  return found === null ? null : { number: found, took: Date.now() - started, worker };
}
