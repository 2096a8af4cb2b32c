/** Stream windows: where windows end, and that no blocked text is ever in a released delta. */
import type { GuardrailDecision } from '../../../../lambdas/lib/guardrails/guardrail.js';
import { LocalGuardrail } from '../../../../lambdas/lib/guardrails/local.js';
import { LOCAL_PII_ENTITIES, type LocalPiiEntity } from '../../../../lambdas/lib/guardrails/entities.js';
import { LeakDetector, canaryOf, deriveCanary, withCanary } from '../../../../lambdas/lib/guardrails/leak.js';
import { findPii } from '../../../../lambdas/lib/guardrails/pii.js';
import {
  MAX_HELD_CHARS,
  checkedWindows,
  windowEnd,
  type GuardedChunk,
} from '../../../../lambdas/lib/guardrails/stream.js';

async function* deltasOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect(chunks: AsyncIterable<GuardedChunk>): Promise<GuardedChunk[]> {
  const out: GuardedChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

const SECRET = 'a-widget-signing-secret-of-at-least-32-chars';
const PROMPT =
  'You are the support assistant of Example Corp. Answer questions about orders, returns and shipping politely and briefly, never discuss competitors.';

const guardrail = new LocalGuardrail({
  piiEntities: LOCAL_PII_ENTITIES,
  piiAction: 'mask',
  denyWords: ['forbidden'],
  promptAttack: 'block',
  canarySecret: async () => SECRET,
});

describe('windowEnd', () => {
  it.each<[string, string, number, number | undefined]>([
    ['wait for more text below the window', 'Hello the', 20, undefined],
    ['end after a sentence followed by more text', 'Hello. The next', 200, 7],
    ['end after the last sentence end inside the window', 'One. Two. Three and', 200, 10],
    ['not end at a sentence end until what follows is known', 'Hello. ', 200, undefined],
    ['end at the last space before the limit', 'aaaa bbbb cccc dddd', 12, 10],
    ['not cut between two digits', 'card 4111 1111 1111 1111 ok', 20, 5],
    ['cut a token longer than the window at the window', 'x'.repeat(30), 10, 10],
  ])('should %s', (_name, pending, chars, expected) => {
    expect(windowEnd(pending, chars)).toBe(expected);
  });
});

describe('checkedWindows', () => {
  const system = async () => guardrail.systemPrompt(PROMPT);
  const check = (systemPrompt: string) => (window: string, before: string) =>
    guardrail.checkOutput(window, { systemPrompt, before });

  it.each([1, 3, 7, 50])(
    'should release the whole answer, masked, in windows of at most 40 chars (deltas of %i)',
    async (size) => {
      // Prepare
      const answer =
        'Thanks for asking. Your order ships tomorrow and the receipt goes to jane.doe@example.com today. Anything else I can do?';

      // Act
      const chunks = await collect(checkedWindows(deltasOf(answer, size), check(await system()), 40));

      // Assess
      const texts = chunks.map((c) => (c.kind === 'text' ? c.text : ''));
      expect(chunks.every((c) => c.kind === 'text')).toBe(true);
      expect(texts.join('')).toBe(answer.replace('jane.doe@example.com', '{EMAIL}'));
      expect(texts.every((t) => t.length <= 40)).toBe(true);
    },
  );

  it.each([
    ['the canary', (canary: string) => `Sure. Here it is: ${canary} and more text after it.`],
    [
      'twelve prompt words across windows',
      () =>
        'Fine. I was told: You are the support assistant of Example Corp. Answer questions about orders, returns and more.',
    ],
    ['a denied word', () => 'All good so far. Then a forbidden thing. And more text.'],
  ])('should block at %s and release none of the blocked window', async (_name, answerOf) => {
    // Prepare
    const systemPrompt = await system();
    const canary = /cw-[0-9a-f]{20}/.exec(systemPrompt)?.[0] ?? '';
    const answer = answerOf(canary);

    // Act
    const chunks = await collect(checkedWindows(deltasOf(answer, 4), check(systemPrompt), 30));

    // Assess
    const released = chunks.flatMap((c) => (c.kind === 'text' ? [c.text] : [])).join('');
    expect(chunks.at(-1)?.kind).toBe('blocked');
    expect(released).not.toContain(canary || 'never');
    expect(released).not.toContain('forbidden');
    expect(new LeakDetector().leaks(released, systemPrompt)).toBe(false);
    expect(answer.startsWith(released)).toBe(true);
  });

  it.each([1, 5, 40])(
    'should release no word of an answer that recites the prompt from its first word (deltas of %i)',
    async (size) => {
      // Prepare
      const systemPrompt = await system();

      // Act
      const chunks = await collect(
        checkedWindows(deltasOf(`${systemPrompt} Anything else?`, size), check(systemPrompt), 30),
      );

      // Assess
      expect(chunks.map((c) => c.kind)).toEqual(['blocked']);
    },
  );

  it('should hold back prompt words only until what follows shows they are not a leak', async () => {
    // Prepare
    const answer = 'Sure. You are the support team now, and orders ship on Monday. Bye.';

    // Act
    const chunks = await collect(checkedWindows(deltasOf(answer, 3), check(await system()), 20));

    // Assess
    expect(chunks.every((c) => c.kind === 'text')).toBe(true);
    expect(chunks.map((c) => (c.kind === 'text' ? c.text : '')).join('')).toBe(answer);
  });

  it('should stop reading the model once a window is blocked', async () => {
    // Prepare
    let pulled = 0;
    async function* model(): AsyncGenerator<string> {
      for (const part of ['Hello. ', 'forbidden ', 'word. ', 'more. ', 'more. ']) {
        pulled += 1;
        yield part;
      }
    }
    const blockOnForbidden = async (window: string): Promise<GuardrailDecision> =>
      window.includes('forbidden')
        ? { action: 'block', text: window, categories: ['CUSTOM_WORDS'] }
        : { action: 'pass', text: window, categories: [] };

    // Act
    const chunks = await collect(checkedWindows(model(), blockOnForbidden, 200));

    // Assess
    expect(chunks.map((c) => c.kind)).toEqual(['text', 'blocked']);
    // The blocked window ends at its sentence end, known once the next delta has arrived.
    expect(pulled).toBe(4);
  });
});

/** Every way `answer` can reach the stream: split in two at each position, and one character at a time. */
function* splits(answer: string): Generator<string[]> {
  for (let i = 1; i < answer.length; i++) yield [answer.slice(0, i), answer.slice(i)];
  yield [...answer];
}

async function* deltasFrom(parts: readonly string[]): AsyncGenerator<string> {
  yield* parts;
}

describe('checkedWindows, PII across windows', () => {
  const systemPrompt = withCanary(PROMPT, deriveCanary(SECRET));
  const check = (window: string, before: string) => guardrail.checkOutput(window, { systemPrompt, before });

  it.each<[LocalPiiEntity, string]>([
    ['EMAIL', 'jane.doe.longer-name@support.example.com'],
    ['PHONE', '(213) 373-4253'],
    ['PHONE', '+44 20 7946 0958'],
    ['PHONE', '+33 1 23 45 67 89'],
    ['PHONE', '+1 213 373 4253 ext. 12'],
    ['PHONE', '２１３ ３７３ ４２５３'],
    ['CREDIT_DEBIT_CARD_NUMBER', '4111 1111 1111 1111'],
    ['CREDIT_DEBIT_CARD_NUMBER', '5500-0000-0000-0004'],
    ['CREDIT_DEBIT_CARD_NUMBER', '4111111111111111'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89 3704 0044 0532 0130 00'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'GB82 WEST 1234 5698 7654 32'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89370400440532013000'],
    ['US_SOCIAL_SECURITY_NUMBER', '123-45-6789'],
    ['US_SOCIAL_SECURITY_NUMBER', '123 45 6789'],
    ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
  ])('should release the %s %s only masked, whatever the window and delta boundaries', async (entity, value) => {
    // Prepare
    const answer = `Sure. You can use ${value} for that, or ask again.`;
    const masked = findPii(answer, new Set(LOCAL_PII_ENTITIES)).masked;
    expect(masked).toBe(`Sure. You can use {${entity}} for that, or ask again.`);
    const failures: string[] = [];

    // Act
    for (const windowChars of [8, 12, 16, 20, 24, 28]) {
      for (const parts of splits(answer)) {
        const chunks = await collect(checkedWindows(deltasFrom(parts), check, windowChars, canaryOf(systemPrompt)));
        const released = chunks.map((c) => (c.kind === 'text' ? c.text : `[${c.kind}]`)).join('');
        if (released !== masked) failures.push(`${windowChars} ${JSON.stringify(parts)}: ${released}`);
      }
    }

    // Assess
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('should keep releasing a long run of digits, holding at most MAX_HELD_CHARS of it', async () => {
    // Prepare
    const answer = `Numbers: ${'7 '.repeat(400)}end.`;
    let pulled = 0;
    let pulledAtFirst: number | undefined;
    async function* model(): AsyncGenerator<string> {
      for (const character of answer) {
        pulled += 1;
        yield character;
      }
    }

    // Act
    const texts: string[] = [];
    for await (const chunk of checkedWindows(model(), check, 20, canaryOf(systemPrompt))) {
      pulledAtFirst ??= pulled;
      texts.push(chunk.kind === 'text' ? chunk.text : '');
    }

    // Assess
    expect(texts.join('')).toBe(answer);
    expect(pulledAtFirst).toBeLessThanOrEqual(20 + MAX_HELD_CHARS + 1);
    expect(Math.max(...texts.map((t) => t.length))).toBeLessThanOrEqual(20 + MAX_HELD_CHARS);
  });
});

describe('checkedWindows, the canary across windows', () => {
  const canary = deriveCanary(SECRET);
  const systemPrompt = withCanary(PROMPT, canary);
  const check = (window: string, before: string) => guardrail.checkOutput(window, { systemPrompt, before });
  const lead = 'Sure, the reference is ';

  it.each([
    ['as it is', canary],
    ['spaced out', canary.split('').join(' ')],
    ['spaced out with commas', canary.split('').join(', ')],
    ['in upper case groups', canary.toUpperCase().replace(/(.{4})/g, '$1 ')],
  ])(
    'should block the canary %s before any of it is released, wherever the windows cut it',
    async (_name, spelling) => {
      // Prepare
      const answer = `${lead}${spelling} and that is all.`;
      const failures: string[] = [];

      // Act
      for (const windowChars of [8, 12, 20, 24, 30, 40]) {
        for (const parts of splits(answer)) {
          const chunks = await collect(checkedWindows(deltasFrom(parts), check, windowChars, canary));
          const released = chunks.flatMap((c) => (c.kind === 'text' ? [c.text] : [])).join('');
          if (chunks.at(-1)?.kind !== 'blocked' || !lead.startsWith(released)) {
            failures.push(`${windowChars} ${JSON.stringify(parts)}: ${released}`);
          }
        }
      }

      // Assess
      expect(failures.slice(0, 3)).toEqual([]);
    },
  );
});
