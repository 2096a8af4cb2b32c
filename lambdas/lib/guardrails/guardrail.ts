/**
 * The guardrail port (design §13): what checks the visitor's message before the model sees it
 * and the model's answer before anyone sees it. Adapters: `local.ts` (offline pattern and
 * validator checks) and `bedrock.ts` (Amazon Bedrock `ApplyGuardrail`). Decisions name their
 * categories with Bedrock's names, so audit events and metrics read the same for both.
 */

/** Which way the checked text travels: to the model, or from it. */
export type GuardrailDirection = 'input' | 'output';

/**
 * What a check decided. `pass`: the text goes on unchanged. `mask`: `text` is the text with each
 * sensitive match replaced by `{ENTITY}`. `block`: the text must not go on; `text` is its masked
 * form, the only form that may be stored.
 */
export interface GuardrailDecision {
  readonly action: 'pass' | 'mask' | 'block';
  /** The text to use from here on: the original on `pass`, masked otherwise. */
  readonly text: string;
  /**
   * What was found, Bedrock's names: PII entity types (`EMAIL`, `PHONE`, …), content filters
   * (`PROMPT_ATTACK`, `HATE`, …), `CUSTOM_WORDS`, `PROFANITY`, `DENIED_TOPIC`; and `PROMPT_LEAK`
   * (ours) for an answer that gives the system prompt away.
   */
  readonly categories: readonly string[];
  /**
   * Output checks: how many characters at the end of `text` begin a verbatim run of the system
   * prompt; a stream holds them back until the following text shows whether the run is a leak.
   * @default 0
   */
  readonly holdBack?: number;
}

/** What an output check knows besides the text. */
export interface OutputContext {
  /** The system prompt exactly as the model received it (canary included). */
  readonly systemPrompt: string;
  /**
   * Text already released just before `text` (a stream's previous windows), for checks that
   * span windows such as the verbatim-prompt check; it is never masked or returned.
   * @default ''
   */
  readonly before?: string;
}

/** Checks on what goes to and comes from the model. Failures throw (the caller fails closed). */
export interface Guardrail {
  /** Checks the visitor's message. */
  checkInput(text: string): Promise<GuardrailDecision>;
  /** Checks (a window of) the model's answer. */
  checkOutput(text: string, context: OutputContext): Promise<GuardrailDecision>;
  /** The system prompt to send: `base` with what the output check needs to spot a leak (the canary). */
  systemPrompt(base: string): Promise<string>;
}

/** `GuardrailDecision` for text nothing was found in. */
export const pass = (text: string): GuardrailDecision => ({ action: 'pass', text, categories: [] });

/** The category of an answer that recites the system prompt or its canary (not a Bedrock name). */
export const PROMPT_LEAK = 'PROMPT_LEAK';

/** Bedrock's category of a prompt-attack filter match. */
export const PROMPT_ATTACK = 'PROMPT_ATTACK';

/** Bedrock's category of a custom (denied) word match. */
export const CUSTOM_WORDS = 'CUSTOM_WORDS';

/** Combines decisions on the same text: the strongest action, every category once. */
export function combine(text: string, decisions: readonly GuardrailDecision[]): GuardrailDecision {
  const rank = { pass: 0, mask: 1, block: 2 } as const;
  const action = decisions.reduce<GuardrailDecision['action']>(
    (a, d) => (rank[d.action] > rank[a] ? d.action : a),
    'pass',
  );
  const categories = [...new Set(decisions.flatMap((d) => d.categories))];
  return { action, text, categories };
}
