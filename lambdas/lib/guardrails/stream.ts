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

/**
 * Where the next window ends in `pending`, or undefined when it should wait for more text. The
 * first `after` characters are text held back from the previous window (see `holdBack`): the
 * window must go beyond them, and they do not count toward `windowChars`.
 */
export function windowEnd(pending: string, windowChars: number, after = 0): number | undefined {
  const limit = windowChars + after;
  let end: number | undefined;
  for (const match of pending.matchAll(SENTENCE_END)) {
    const cut = match.index + match[0].length;
    if (cut > limit) break;
    // Only a sentence end followed by more text is certain: trailing spaces may still grow.
    if (cut > after && cut < pending.length) end = cut;
  }
  if (end !== undefined) return end;
  if (pending.length < limit) return undefined;
  for (let i = limit - 1; i > after; i--) {
    if (/\s/.test(pending[i] ?? '') && !(/\d/.test(pending[i - 1] ?? '') && /\d/.test(pending[i + 1] ?? ''))) {
      return i + 1;
    }
  }
  return limit;
}

/** The last `LOOKBACK_WORDS` words of `text`. */
function tailOf(text: string): string {
  return text.split(/\s+/).slice(-LOOKBACK_WORDS).join(' ');
}

/**
 * Releases `deltas` window by window, each after `check` passed it (masked where it masked). The
 * end of a window that begins a verbatim run of the system prompt (`holdBack`) is kept and checked
 * again with the next window, so a leak is recognised before any of it is released.
 */
export async function* checkedWindows(
  deltas: AsyncIterable<string>,
  check: WindowCheck,
  windowChars: number,
): AsyncGenerator<GuardedChunk> {
  let pending = '';
  let held = 0;
  let tail = '';
  /** Checks `window`; releases what passed, and returns what is held back, or undefined when blocked. */
  async function* release(window: string, last: boolean): AsyncGenerator<GuardedChunk, string | undefined> {
    const decision = await check(window, tail);
    if (decision.action === 'block') {
      yield { kind: 'blocked', decision };
      return undefined;
    }
    const hold = last ? 0 : Math.min(decision.holdBack ?? 0, decision.text.length);
    const out = decision.text.slice(0, decision.text.length - hold);
    if (out !== '') {
      tail = tailOf(`${tail} ${out}`);
      yield { kind: 'text', text: out };
    }
    return decision.text.slice(decision.text.length - hold);
  }
  for await (const delta of deltas) {
    pending += delta;
    for (
      let end = windowEnd(pending, windowChars, held);
      end !== undefined;
      end = windowEnd(pending, windowChars, held)
    ) {
      const kept = yield* release(pending.slice(0, end), false);
      if (kept === undefined) return;
      pending = kept + pending.slice(end);
      held = kept.length;
    }
  }
  if (pending !== '') yield* release(pending, true);
}
