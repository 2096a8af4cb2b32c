/**
 * Stream windows (design §13): a streamed answer is released only after it passed the output
 * checks, a window at a time. A window ends at a sentence end, or at the last space before
 * `windowChars` that does not sit between two digits (so a spaced card, IBAN or phone number is
 * not cut in two); a token longer than a window is cut at `windowChars`. The text released so far
 * is looked back on (its last words) so a leak spanning windows is still seen. A blocked window
 * ends the stream: nothing of it, and nothing after it, is released.
 */
import type { GuardrailDecision } from './guardrail.js';

/** What the guarded stream yields: checked text to release, or the decision that blocked it. */
export type GuardedChunk =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'blocked'; readonly decision: GuardrailDecision };

/** Checks one window; `before` is the tail of what was already released. */
export type WindowCheck = (window: string, before: string) => Promise<GuardrailDecision>;

/** How many released words are kept for the look-back: one less than a verbatim-prompt leak. */
const LOOKBACK_WORDS = 11;

const SENTENCE_END = /[.!?…\n](?=\s)\s*/g;

/** Where the next window ends in `pending`, or undefined when it should wait for more text. */
export function windowEnd(pending: string, windowChars: number): number | undefined {
  let end: number | undefined;
  for (const match of pending.matchAll(SENTENCE_END)) {
    const after = match.index + match[0].length;
    if (after > windowChars) break;
    // Only a sentence end followed by more text is certain: trailing spaces may still grow.
    if (after < pending.length) end = after;
  }
  if (end !== undefined) return end;
  if (pending.length < windowChars) return undefined;
  for (let i = windowChars - 1; i > 0; i--) {
    if (/\s/.test(pending[i] ?? '') && !(/\d/.test(pending[i - 1] ?? '') && /\d/.test(pending[i + 1] ?? ''))) {
      return i + 1;
    }
  }
  return windowChars;
}

/** The last `LOOKBACK_WORDS` words of `text`. */
function tailOf(text: string): string {
  return text.split(/\s+/).slice(-LOOKBACK_WORDS).join(' ');
}

/** Releases `deltas` window by window, each after `check` passed it (masked where it masked). */
export async function* checkedWindows(
  deltas: AsyncIterable<string>,
  check: WindowCheck,
  windowChars: number,
): AsyncGenerator<GuardedChunk> {
  let pending = '';
  let tail = '';
  async function* release(window: string): AsyncGenerator<GuardedChunk, boolean> {
    const decision = await check(window, tail);
    if (decision.action === 'block') {
      yield { kind: 'blocked', decision };
      return false;
    }
    tail = tailOf(`${tail} ${decision.text}`);
    yield { kind: 'text', text: decision.text };
    return true;
  }
  for await (const delta of deltas) {
    pending += delta;
    for (let end = windowEnd(pending, windowChars); end !== undefined; end = windowEnd(pending, windowChars)) {
      const window = pending.slice(0, end);
      pending = pending.slice(end);
      if (!(yield* release(window))) return;
    }
  }
  if (pending !== '') yield* release(pending);
}
