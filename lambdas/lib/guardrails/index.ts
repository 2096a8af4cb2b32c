/** Picks the guardrail named by `GUARDRAIL_PROVIDER` (design §13). */
import type { Config } from '../config.js';
import type { SecretProvider } from '../secrets.js';
import { BedrockGuardrail } from './bedrock.js';
import { localEntities } from './config.js';
import { canarySecretOf } from './leak.js';
import type { Guardrail } from './guardrail.js';
import { LocalGuardrail } from './local.js';

/** Creates the configured guardrail; `none` gives none. */
export function createGuardrail(
  config: { readonly guardrail: Config['guardrail']; readonly llm: { readonly connectTimeoutMs: number } },
  secrets: SecretProvider,
): Guardrail | undefined {
  const g = config.guardrail;
  const canarySecret = canarySecretOf(secrets);
  switch (g.provider) {
    case 'none':
      return undefined;
    case 'local':
      return new LocalGuardrail({
        piiEntities: localEntities(g),
        piiAction: g.piiAction,
        denyWords: g.denyWords,
        promptAttack: g.promptAttack,
        canarySecret,
      });
    case 'bedrock':
      return new BedrockGuardrail({
        guardrailId: g.bedrockGuardrailId ?? '',
        guardrailVersion: g.bedrockGuardrailVersion ?? '',
        canarySecret,
        connectTimeoutMs: config.llm.connectTimeoutMs,
      });
  }
}

export { type Guardrail, type GuardrailDecision, type GuardrailDirection } from './guardrail.js';
