/**
 * Stream windows (design §13): a streamed answer is released only after it passed the output
 * checks, a window at a time. A window ends at a sentence end, or at the last space before
 * `windowChars` that does not sit between two digits (so a spaced card, IBAN or phone number is
 * not cut in two); a token longer than a window is cut at `windowChars`. The end of a window that
 * may begin PII, the canary or a run of system-prompt words is held back and checked again with
 * the next window, so a match a window cut in two is still seen whole; the text released so far is
 * looked back on too. A blocked window ends the stream: nothing of it, and nothing after it, is
 * released.
 */
import type { GuardrailDecision } from './guardrail.js';
import { CANARY_LENGTH, canaryPrefixStart } from './leak.js';
import { piiPrefixStart } from './pii-prefix.js';

/** What the guarded stream yields: checked text to release, or the decision that blocked it. */
export type GuardedChunk =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'blocked'; readonly decision: GuardrailDecision };

/** Checks one window; `before` is the tail of what was already released. */
export type WindowCheck = (window: string, before: string) => Promise<GuardrailDecision>;

/** How many released words are kept for the look-back: one less than a verbatim-prompt leak. */
const LOOKBACK_WORDS = 11;

/** How many letters and digits the look-back keeps at least: a whole canary, however it is spelled out. */
const LOOKBACK_LETTERS = CANARY_LENGTH;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * The most a window holds back for PII: the longest e-mail address (RFC 5321, 254 characters),
 * longer than any other entity. A longer candidate is released as checked except for its last
 * `MAX_HELD_CHARS` characters, so a stream always moves on.
 */
export const MAX_HELD_CHARS = 254;

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

/**
 * The last `LOOKBACK_WORDS` words of `text`, and more words until they hold `LOOKBACK_LETTERS`
 * letters and digits. Words with neither are left out: both checks skip them (matching drops
 * them, the canary is read in letters and digits), so no run of separators between the
 * characters of a spelled-out canary can push its start out of the look-back.
 */
function tailOf(text: string): string {
  const words = text.split(/\s+/).filter((word) => LETTER_OR_DIGIT.test(word));
  const lettersIn = (word: string) => [...word].filter((c) => LETTER_OR_DIGIT.test(c)).length;
  let n = Math.min(LOOKBACK_WORDS, words.length);
  let letters = words.slice(-n).reduce((sum, word) => sum + lettersIn(word), 0);
  while (n < words.length && letters < LOOKBACK_LETTERS) {
    n++;
    letters += lettersIn(words[words.length - n] ?? '');
  }
  return words.slice(-n).join(' ');
}

/** `at`, moved back to the start of the word it is in. */
function wordStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && /\S/.test(text[start - 1] ?? '')) start--;
  return start;
}

/**
 * How many characters at the end of `window` to hold back: text that may begin PII or the
 * `canary`, from the start of its word. What remains is looked at again (a number may run into the
 * word a canary starts in), until it ends with no candidate. A candidate longer than
 * `MAX_HELD_CHARS` is no entity: only its last `MAX_HELD_CHARS` characters are held, or more when
 * that cut would fall inside a start of the canary.
 */
export function unfinishedTail(window: string, canary: string | undefined): number {
  const canaryStart = (head: string) => {
    const at = canary === undefined ? undefined : canaryPrefixStart(head, canary, MAX_HELD_CHARS);
    return at === undefined ? head.length : wordStart(head, at);
  };
  let start = window.length;
  for (;;) {
    const head = window.slice(0, start);
    const next = Math.min(piiPrefixStart(head, MAX_HELD_CHARS) ?? start, canaryStart(head));
    if (next >= start) break;
    if (window.length - next > MAX_HELD_CHARS) {
      const cut = window.length - MAX_HELD_CHARS;
      start = Math.min(cut, canaryStart(window.slice(0, cut)));
      break;
    }
    start = next;
  }
  return window.length - start;
}

/**
 * Releases `deltas` window by window, each after `check` passed it (masked where it masked). The
 * end of a window that may begin PII or the `canary` (`unfinishedTail`) is not checked yet but
 * kept for the next window; the end of a checked window that begins a verbatim run of the system
 * prompt (`holdBack`) is kept and checked again with the next window. So a match is recognised
 * whole before any of it is released.
 */
export async function* checkedWindows(
  deltas: AsyncIterable<string>,
  check: WindowCheck,
  windowChars: number,
  canary?: string,
): AsyncGenerator<GuardedChunk> {
  let pending = '';
  let held = 0;
  let tail = '';
  /** Checks `window`; releases what passed, and returns what is held back, or undefined when blocked. */
  async function* release(window: string, last: boolean): AsyncGenerator<GuardedChunk, string | undefined> {
    const unfinished = last ? '' : window.slice(window.length - unfinishedTail(window, canary));
    if (unfinished === window) return window;
    const decision = await check(window.slice(0, window.length - unfinished.length), tail);
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
    return decision.text.slice(decision.text.length - hold) + unfinished;
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
