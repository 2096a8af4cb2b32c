/**
 * The Amazon Bedrock guardrail the chat functions apply when `guardrailProvider` is `bedrock`
 * (design §13): the prompt-attack filter on input, content filters on both directions, the PII
 * entities (masked or blocked), denied words and the profanity list, and the blocked messaging;
 * plus a version, which is what the functions call. The version's description carries a digest
 * of the configuration, so a changed guardrail gets a new version on deploy.
 */
import { createHash } from 'node:crypto';
import { Stack } from 'aws-cdk-lib';
import { CfnGuardrail, CfnGuardrailVersion } from 'aws-cdk-lib/aws-bedrock';
import { Construct } from 'constructs';

/** Props of `BedrockGuardrail`. */
export interface BedrockGuardrailProps {
  /** Bedrock PII entity types to detect. */
  readonly piiEntities: readonly string[];
  /** What to do with PII. */
  readonly piiAction: 'mask' | 'block';
  /** Words that block a message. @default none */
  readonly denyWords?: readonly string[];
  /** What a visitor sees instead of blocked text. */
  readonly blockedMessage: string;
}

/** Content filters on both directions; the prompt-attack filter applies to input only (Bedrock's rule). */
const FILTERS = ['HATE', 'INSULTS', 'SEXUAL', 'VIOLENCE', 'MISCONDUCT'] as const;

/** The guardrail and its version. */
export class BedrockGuardrail extends Construct {
  readonly guardrail: CfnGuardrail;
  readonly version: CfnGuardrailVersion;

  constructor(scope: Construct, id: string, props: BedrockGuardrailProps) {
    super(scope, id);
    const properties = {
      name: `${Stack.of(this).stackName}-guardrail`.slice(0, 50),
      description: 'Chat widget guardrail: prompt attacks, content filters, PII, denied words',
      blockedInputMessaging: props.blockedMessage,
      blockedOutputsMessaging: props.blockedMessage,
      contentPolicyConfig: {
        filtersConfig: [
          { type: 'PROMPT_ATTACK', inputStrength: 'HIGH', outputStrength: 'NONE' },
          ...FILTERS.map((type) => ({ type, inputStrength: 'HIGH', outputStrength: 'HIGH' })),
        ],
      },
      ...(props.piiEntities.length === 0
        ? {}
        : {
            sensitiveInformationPolicyConfig: {
              piiEntitiesConfig: props.piiEntities.map((type) => ({
                type,
                action: props.piiAction === 'block' ? 'BLOCK' : 'ANONYMIZE',
              })),
            },
          }),
      wordPolicyConfig: {
        managedWordListsConfig: [{ type: 'PROFANITY' }],
        ...((props.denyWords ?? []).length === 0
          ? {}
          : { wordsConfig: (props.denyWords ?? []).map((text) => ({ text })) }),
      },
    };
    this.guardrail = new CfnGuardrail(this, 'Guardrail', properties);
    const digest = createHash('sha256').update(JSON.stringify(properties)).digest('hex').slice(0, 16);
    this.version = new CfnGuardrailVersion(this, 'Version', {
      guardrailIdentifier: this.guardrail.attrGuardrailId,
      description: `configuration ${digest}`,
    });
  }
}
