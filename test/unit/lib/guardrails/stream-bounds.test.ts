/** Review of the stream hold (i18b): a canary spelled out wider than the hold is still caught. */
import { LocalGuardrail } from '../../../../lambdas/lib/guardrails/local.js';
import { LOCAL_PII_ENTITIES } from '../../../../lambdas/lib/guardrails/entities.js';
import { LeakDetector, deriveCanary, withCanary } from '../../../../lambdas/lib/guardrails/leak.js';
import { MAX_HELD_CHARS, checkedWindows, type GuardedChunk } from '../../../../lambdas/lib/guardrails/stream.js';

const SECRET = 'a-widget-signing-secret-of-at-least-32-chars';
const PROMPT = 'You are the support assistant of Example Corp.';

async function* deltasOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

describe('checkedWindows, a canary spelled out wider than the hold', () => {
  const guardrail = new LocalGuardrail({
    piiEntities: LOCAL_PII_ENTITIES,
    piiAction: 'mask',
    denyWords: [],
    promptAttack: 'block',
    canarySecret: async () => SECRET,
  });
  const canary = deriveCanary(SECRET);
  const systemPrompt = withCanary(PROMPT, canary);

  it.each([
    ['12 dot words after each character', ' .'.repeat(12) + ' '],
    ['a run of 12 dashes and a space after each character', `${'-'.repeat(12)} `],
  ])('should block the canary with %s, as the whole-answer check does', async (_name, separator) => {
    // Prepare
    const answer = `Sure: ${canary.split('').join(separator)} and that is all.`;
    expect(answer.length).toBeGreaterThan(MAX_HELD_CHARS);
    expect(new LeakDetector().leaks(answer, systemPrompt)).toBe(true);

    // Act
    const chunks: GuardedChunk[] = [];
    for await (const chunk of checkedWindows(
      deltasOf(answer, 5),
      (window, before) => guardrail.checkOutput(window, { systemPrompt, before }),
      200,
      canary,
    )) {
      chunks.push(chunk);
    }

    // Assess
    expect(chunks.at(-1)?.kind).toBe('blocked');
  });
});
