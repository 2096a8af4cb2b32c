/**
 * The `bedrock` guardrail (design §13): Amazon Bedrock Guardrails' `ApplyGuardrail` on the
 * visitor's message (source `INPUT`) and on the answer (source `OUTPUT`), whatever the model
 * provider, mapped to the same decisions as the local guardrail. The system-prompt leak check
 * (canary and verbatim words) is ours and runs here too. The SDK is imported on the first call,
 * as `llm/bedrock.ts` does; the client is injectable for tests.
 */
import type {
  ApplyGuardrailResponse,
  BedrockRuntimeClient,
  GuardrailAssessment,
} from '@aws-sdk/client-bedrock-runtime';
import { lazyBedrockRuntime, type BedrockRuntime } from '../llm/bedrock-runtime.js';
import { CUSTOM_WORDS, PROMPT_LEAK, combine } from './guardrail.js';
import type { Guardrail, GuardrailDecision, OutputContext } from './guardrail.js';
import { LeakDetector, PromptCanary } from './leak.js';

export interface BedrockGuardrailOptions {
  readonly guardrailId: string;
  readonly guardrailVersion: string;
  /** The secret the canary is derived from (the current widget signing secret). */
  readonly canarySecret: () => Promise<string>;
  /** How long establishing the connection may take; ignored when `client` is given. */
  readonly connectTimeoutMs: number;
  /** @default a client for the function's region */
  readonly client?: BedrockRuntimeClient;
}

interface Finding {
  readonly category: string;
  readonly action: string | undefined;
  readonly detected: boolean | undefined;
  readonly match?: string;
}

/** Everything an assessment reports, with Bedrock's category names. */
function findingsOf(assessment: GuardrailAssessment): Finding[] {
  const { topicPolicy, contentPolicy, wordPolicy, sensitiveInformationPolicy: pii } = assessment;
  return [
    ...(topicPolicy?.topics ?? []).map((t) => ({ category: 'DENIED_TOPIC', action: t.action, detected: t.detected })),
    ...(contentPolicy?.filters ?? []).map((f) => ({
      category: String(f.type),
      action: f.action,
      detected: f.detected,
    })),
    ...(wordPolicy?.customWords ?? []).map((w) => ({
      category: CUSTOM_WORDS,
      action: w.action,
      detected: w.detected,
      match: w.match,
    })),
    ...(wordPolicy?.managedWordLists ?? []).map((w) => ({
      category: String(w.type),
      action: w.action,
      detected: w.detected,
      match: w.match,
    })),
    ...(pii?.piiEntities ?? []).map((p) => ({
      category: String(p.type),
      action: p.action,
      detected: p.detected,
      match: p.match,
    })),
    ...(pii?.regexes ?? []).map((r) => ({
      category: 'REGEX',
      action: r.action,
      detected: r.detected,
      match: r.match,
    })),
  ];
}

/**
 * Maps an `ApplyGuardrail` answer to a decision. Not intervened: pass (categories still name what
 * a filter in detect mode saw). Intervened with something `BLOCKED`: block, with the matches
 * masked in the text to store (Bedrock returns its blocked messaging instead of masked text).
 * Intervened with only `ANONYMIZED` findings: mask, with Bedrock's masked text.
 */
export function decisionOf(text: string, response: ApplyGuardrailResponse): GuardrailDecision {
  const findings = (response.assessments ?? []).flatMap(findingsOf);
  const reported = findings.filter((f) => f.detected === true || (f.action !== undefined && f.action !== 'NONE'));
  const categories = [...new Set(reported.map((f) => f.category))];
  if (response.action !== 'GUARDRAIL_INTERVENED') return { action: 'pass', text, categories };
  if (reported.some((f) => f.action === 'BLOCKED')) {
    let masked = text;
    for (const f of reported) if (f.match) masked = masked.replaceAll(f.match, `{${f.category}}`);
    return { action: 'block', text: masked, categories };
  }
  const output = response.outputs?.map((o) => o.text ?? '').join('') ?? text;
  return { action: 'mask', text: output, categories };
}

/** The Bedrock Guardrails adapter. */
export class BedrockGuardrail implements Guardrail {
  readonly #options: BedrockGuardrailOptions;
  readonly #canary: PromptCanary;
  readonly #leaks = new LeakDetector();
  readonly #load: () => Promise<BedrockRuntime>;

  constructor(options: BedrockGuardrailOptions) {
    this.#options = options;
    this.#load = lazyBedrockRuntime(options);
    this.#canary = new PromptCanary(options.canarySecret);
  }

  async #apply(source: 'INPUT' | 'OUTPUT', text: string): Promise<GuardrailDecision> {
    const { sdk, client } = await this.#load();
    const response = await client.send(
      new sdk.ApplyGuardrailCommand({
        guardrailIdentifier: this.#options.guardrailId,
        guardrailVersion: this.#options.guardrailVersion,
        source,
        content: [{ text: { text } }],
      }),
    );
    return decisionOf(text, response);
  }

  checkInput(text: string): Promise<GuardrailDecision> {
    return this.#apply('INPUT', text);
  }

  async checkOutput(text: string, context: OutputContext): Promise<GuardrailDecision> {
    const applied = await this.#apply('OUTPUT', text);
    const before = context.before ?? '';
    if (!this.#leaks.leaks(before === '' ? text : `${before} ${text}`, context.systemPrompt)) {
      return { ...applied, holdBack: this.#leaks.trailingRun(applied.text, context.systemPrompt) };
    }
    return combine(applied.text, [applied, { action: 'block', text: applied.text, categories: [PROMPT_LEAK] }]);
  }

  systemPrompt(base: string): Promise<string> {
    return this.#canary.apply(base);
  }
}
