/** The guardrail variables (design §13): defaults, and every bad value named. */
import { loadConfig } from '../../../../lambdas/lib/config.js';
import { ConfigurationError } from '../../../../lambdas/lib/errors.js';

describe('guardrail configuration', () => {
  it('should default to the local guardrail with the contract defaults', () => {
    expect(loadConfig({}).guardrail).toEqual({
      provider: 'local',
      piiEntities: [
        'EMAIL',
        'PHONE',
        'CREDIT_DEBIT_CARD_NUMBER',
        'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
        'US_SOCIAL_SECURITY_NUMBER',
        'AWS_ACCESS_KEY',
      ],
      piiAction: 'mask',
      denyWords: [],
      promptAttack: 'block',
      abuseLimit: 5,
      blockedMessage: "Sorry, I can't help with that.",
      streamWindowChars: 200,
      failOpen: false,
      bedrockGuardrailId: undefined,
      bedrockGuardrailVersion: undefined,
    });
  });

  it('should read every variable', () => {
    const config = loadConfig({
      GUARDRAIL_PROVIDER: 'bedrock',
      GUARDRAIL_PII_ENTITIES: 'EMAIL, US_PASSPORT_NUMBER',
      GUARDRAIL_PII_ACTION: 'block',
      GUARDRAIL_DENY_WORDS: 'acme, top secret',
      GUARDRAIL_PROMPT_ATTACK: 'flag',
      GUARDRAIL_ABUSE_LIMIT: '9',
      GUARDRAIL_BLOCKED_MESSAGE: 'No.',
      GUARDRAIL_STREAM_WINDOW_CHARS: '80',
      GUARDRAIL_FAIL_OPEN: 'true',
      BEDROCK_GUARDRAIL_ID: 'abc123',
      BEDROCK_GUARDRAIL_VERSION: '2',
    }).guardrail;
    expect(config).toMatchObject({
      provider: 'bedrock',
      piiEntities: ['EMAIL', 'US_PASSPORT_NUMBER'],
      denyWords: ['acme', 'top secret'],
      abuseLimit: 9,
      streamWindowChars: 80,
      failOpen: true,
    });
  });

  it.each([
    [{ GUARDRAIL_PROVIDER: 'openai' }, 'GUARDRAIL_PROVIDER'],
    [{ GUARDRAIL_PII_ENTITIES: 'EMAIL,SHOE_SIZE' }, 'GUARDRAIL_PII_ENTITIES has "SHOE_SIZE"'],
    [{ GUARDRAIL_PII_ENTITIES: 'US_PASSPORT_NUMBER' }, 'GUARDRAIL_PROVIDER=local cannot detect'],
    [{ GUARDRAIL_PII_ACTION: 'drop' }, 'GUARDRAIL_PII_ACTION'],
    [{ GUARDRAIL_PROMPT_ATTACK: 'warn' }, 'GUARDRAIL_PROMPT_ATTACK'],
    [{ GUARDRAIL_ABUSE_LIMIT: '0' }, 'GUARDRAIL_ABUSE_LIMIT'],
    [{ GUARDRAIL_STREAM_WINDOW_CHARS: '5' }, 'GUARDRAIL_STREAM_WINDOW_CHARS'],
    [{ GUARDRAIL_FAIL_OPEN: 'yes' }, 'GUARDRAIL_FAIL_OPEN'],
    [{ GUARDRAIL_PROVIDER: 'bedrock' }, 'needs BEDROCK_GUARDRAIL_ID'],
    [
      { GUARDRAIL_PROVIDER: 'bedrock', BEDROCK_GUARDRAIL_ID: 'Bad Id!', BEDROCK_GUARDRAIL_VERSION: '1' },
      'BEDROCK_GUARDRAIL_ID',
    ],
  ])('should refuse %j, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigurationError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
