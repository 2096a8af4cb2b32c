/** PII detectors: each entity with valid values (masked) and near misses (left alone). */
import { LOCAL_PII_ENTITIES, type LocalPiiEntity } from '../../../../lambdas/lib/guardrails/entities.js';
import { findPii } from '../../../../lambdas/lib/guardrails/pii.js';

const ALL = new Set<LocalPiiEntity>(LOCAL_PII_ENTITIES);

describe('findPii', () => {
  it.each<[LocalPiiEntity, string]>([
    ['EMAIL', 'jane.doe@example.com'],
    ['EMAIL', 'first+tag@sub.example.co.uk'],
    ['PHONE', '+1 213 373 4253'],
    ['PHONE', '(213) 373-4253'],
    ['PHONE', '+44 20 7946 0958'],
    ['PHONE', '+33 1 23 45 67 89'],
    ['CREDIT_DEBIT_CARD_NUMBER', '4111111111111111'],
    ['CREDIT_DEBIT_CARD_NUMBER', '4111 1111 1111 1111'],
    ['CREDIT_DEBIT_CARD_NUMBER', '5500-0000-0000-0004'],
    ['CREDIT_DEBIT_CARD_NUMBER', '378282246310005'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89370400440532013000'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89 3704 0044 0532 0130 00'],
    ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'GB82 WEST 1234 5698 7654 32'],
    ['US_SOCIAL_SECURITY_NUMBER', '123-45-6789'],
    ['US_SOCIAL_SECURITY_NUMBER', '123 45 6789'],
    ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'],
    ['AWS_ACCESS_KEY', 'ASIAY34FZKBOKMUTVV7A'],
  ])('should mask the %s %s as {ENTITY}', (entity, value) => {
    // Prepare
    const text = `Here it is: ${value}. Thanks!`;

    // Act
    const result = findPii(text, ALL);

    // Assess
    expect(result.masked).toBe(`Here it is: {${entity}}. Thanks!`);
    expect(result.entities).toEqual([entity]);
  });

  it.each([
    ['a 16-digit number that fails Luhn', '4111111111111112'],
    ['a spaced 16-digit number that fails Luhn', '4111 1111 1111 1112'],
    ['an IBAN with a wrong check digit', 'DE88370400440532013000'],
    ['an SSN with area 000', '000-12-3456'],
    ['an SSN with area 666', '666-12-3456'],
    ['an SSN with group 00', '123-00-4567'],
    ['an SSN with serial 0000', '123-45-0000'],
    ['an SSN with mixed separators', '123-45 6789'],
    ['an access key id with a lower-case letter', 'AKIAiOSFODNN7EXAMPLE'],
    ['an access key id one character short', 'AKIAIOSFODNN7EXAMPL'],
    ['an address without a domain', 'jane.doe@localhost'],
    ['an at sign in prose', 'meet @ noon'],
    ['a short number', 'order 12345'],
    ['a date', '2024-05-01'],
    ['a version', 'v1.2.3'],
    ['a price', '$1,299.00'],
    ['a benign sentence', 'Can you send me the assembly instructions?'],
  ])('should leave %s alone', (_name, text) => {
    // Act
    const result = findPii(text, ALL);

    // Assess
    expect(result).toEqual({ masked: text, entities: [] });
  });

  it('should stop an IBAN at the last group that keeps it valid', () => {
    // Act
    const result = findPii('Pay DE89 3704 0044 0532 0130 00 AND then', ALL);

    // Assess
    expect(result.masked).toBe('Pay {INTERNATIONAL_BANK_ACCOUNT_NUMBER} AND then');
  });

  it('should mask several entities of different types in one text, in order', () => {
    // Act
    const result = findPii('Mail a@example.com, card 4111111111111111, call +1 213 373 4253', ALL);

    // Assess
    expect(result.masked).toBe('Mail {EMAIL}, card {CREDIT_DEBIT_CARD_NUMBER}, call {PHONE}');
    expect(result.entities).toEqual(['EMAIL', 'CREDIT_DEBIT_CARD_NUMBER', 'PHONE']);
  });

  it('should only look for the entities it is given', () => {
    // Act
    const result = findPii('Mail a@example.com, card 4111111111111111', new Set(['EMAIL']));

    // Assess
    expect(result.masked).toBe('Mail {EMAIL}, card 4111111111111111');
  });
});
