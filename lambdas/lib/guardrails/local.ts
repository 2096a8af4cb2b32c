/**
 * The `local` guardrail (design §13): deterministic and offline. Input: PII (masked or blocked),
 * denied words, known prompt-attack phrasings. Output: PII, denied words, and the system-prompt
 * leak check (canary or 12 consecutive prompt words, looking back across stream windows).
 */
import { ATTACK_FAMILIES } from './prompt-attacks.js';
import type { LocalPiiEntity } from './entities.js';
import {
  CUSTOM_WORDS,
  PROMPT_ATTACK,
  PROMPT_LEAK,
  combine,
  type Guardrail,
  type GuardrailDecision,
  type OutputContext,
} from './guardrail.js';
import { LeakDetector, PromptCanary } from './leak.js';
import { normalizeForMatching } from './normalize.js';
import { findPii } from './pii.js';

export interface LocalGuardrailOptions {
  readonly piiEntities: readonly LocalPiiEntity[];
  readonly piiAction: 'mask' | 'block';
  /** Words or phrases that block a message, matched whole and case-insensitively. */
  readonly denyWords: readonly string[];
  /** `block`: an attack blocks the message; `flag`: it is only reported; `off`: not checked. */
  readonly promptAttack: 'block' | 'flag' | 'off';
  /** The secret the canary is derived from (the current widget signing secret). */
  readonly canarySecret: () => Promise<string>;
}

/** Which attack family a message matches, if any. */
export function matchPromptAttack(text: string): string | undefined {
  const normal = normalizeForMatching(text);
  const raw = text.normalize('NFKC').toLowerCase();
  return COMPILED.find((f) => f.words.some((p) => p.test(normal)) || f.delimiters.some((p) => p.test(raw)))?.id;
}

/** A word pattern as a regex over the normalised text: whole words, a space may be missing. */
const wordPattern = (source: string) => new RegExp(`(?<![a-z0-9])${source.replaceAll(' ', ' ?')}(?![a-z0-9])`);

const COMPILED = ATTACK_FAMILIES.map((family) => ({
  id: family.id,
  words: family.words.map(wordPattern),
  delimiters: family.delimiters ?? [],
}));

/** The local guardrail. */
export class LocalGuardrail implements Guardrail {
  readonly #options: LocalGuardrailOptions;
  readonly #entities: ReadonlySet<LocalPiiEntity>;
  readonly #denied: RegExp | undefined;
  readonly #leaks = new LeakDetector();
  readonly #canary: PromptCanary;

  constructor(options: LocalGuardrailOptions) {
    this.#options = options;
    this.#entities = new Set(options.piiEntities);
    this.#canary = new PromptCanary(options.canarySecret);
    const words = options.denyWords.map((w) => normalizeForMatching(w)).filter((w) => w !== '');
    this.#denied =
      words.length === 0
        ? undefined
        : new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`, 'u');
  }

  /** PII and denied words: what both directions check. */
  #common(text: string): GuardrailDecision {
    const pii = findPii(text, this.#entities);
    const decisions: GuardrailDecision[] = [];
    if (pii.entities.length > 0) {
      decisions.push({ action: this.#options.piiAction, text: pii.masked, categories: pii.entities });
    }
    if (this.#denied?.test(normalizeForMatching(text))) {
      decisions.push({ action: 'block', text: pii.masked, categories: [CUSTOM_WORDS] });
    }
    return combine(pii.masked, decisions);
  }

  async checkInput(text: string): Promise<GuardrailDecision> {
    const common = this.#common(text);
    const mode = this.#options.promptAttack;
    if (mode === 'off' || matchPromptAttack(text) === undefined) return common;
    return combine(common.text, [
      common,
      { action: mode === 'block' ? 'block' : 'pass', text: common.text, categories: [PROMPT_ATTACK] },
    ]);
  }

  async checkOutput(text: string, context: OutputContext): Promise<GuardrailDecision> {
    const common = this.#common(text);
    const before = context.before ?? '';
    if (!this.#leaks.leaks(before === '' ? text : `${before} ${text}`, context.systemPrompt)) {
      return { ...common, holdBack: this.#leaks.trailingRun(common.text, context.systemPrompt) };
    }
    return combine(common.text, [common, { action: 'block', text: common.text, categories: [PROMPT_LEAK] }]);
  }

  async systemPrompt(base: string): Promise<string> {
    return this.#canary.apply(base);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll(' ', ' ?');
}
