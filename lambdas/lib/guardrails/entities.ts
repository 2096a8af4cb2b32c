/**
 * PII entity types, with Bedrock Guardrails' names (the `GuardrailPiiEntityType` values of the
 * Bedrock API), so `GUARDRAIL_PII_ENTITIES` means the same for the local and the Bedrock guardrail.
 */

/** Every PII entity type Bedrock Guardrails knows. */
export const BEDROCK_PII_ENTITIES = [
  'ADDRESS',
  'AGE',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'CA_HEALTH_NUMBER',
  'CA_SOCIAL_INSURANCE_NUMBER',
  'CREDIT_DEBIT_CARD_CVV',
  'CREDIT_DEBIT_CARD_EXPIRY',
  'CREDIT_DEBIT_CARD_NUMBER',
  'DRIVER_ID',
  'EMAIL',
  'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  'IP_ADDRESS',
  'LICENSE_PLATE',
  'MAC_ADDRESS',
  'NAME',
  'PASSWORD',
  'PHONE',
  'PIN',
  'SWIFT_CODE',
  'UK_NATIONAL_HEALTH_SERVICE_NUMBER',
  'UK_NATIONAL_INSURANCE_NUMBER',
  'UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER',
  'URL',
  'USERNAME',
  'US_BANK_ACCOUNT_NUMBER',
  'US_BANK_ROUTING_NUMBER',
  'US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER',
  'US_PASSPORT_NUMBER',
  'US_SOCIAL_SECURITY_NUMBER',
  'VEHICLE_IDENTIFICATION_NUMBER',
] as const;
export type PiiEntity = (typeof BEDROCK_PII_ENTITIES)[number];

/** The entities the local guardrail detects; also the default of `GUARDRAIL_PII_ENTITIES`. */
export const LOCAL_PII_ENTITIES = [
  'EMAIL',
  'PHONE',
  'CREDIT_DEBIT_CARD_NUMBER',
  'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  'US_SOCIAL_SECURITY_NUMBER',
  'AWS_ACCESS_KEY',
] as const satisfies readonly PiiEntity[];
export type LocalPiiEntity = (typeof LOCAL_PII_ENTITIES)[number];
