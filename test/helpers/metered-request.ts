/** A model request that records the usage its provider reports (design §12 metering tests). */
import type { CompletionRequest, ReportedUsage } from '../../lambdas/lib/llm/model-provider.js';

/** `request` asks for at most `maxOutputTokens`; `reported` fills as the provider calls `onUsage`. */
export function metered(maxOutputTokens = 64): { request: CompletionRequest; reported: ReportedUsage[] } {
  const reported: ReportedUsage[] = [];
  return {
    reported,
    request: {
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'one two three four five six' }],
      maxOutputTokens,
      onUsage: (usage) => reported.push(usage),
    },
  };
}
