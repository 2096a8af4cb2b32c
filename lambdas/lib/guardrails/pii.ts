/**
 * PII detection and masking for the local guardrail. Each detector finds candidates with a loose
 * pattern, then keeps only those a validator accepts: e-mail addresses, card numbers (issuer
 * prefix, length and Luhn) and IBANs (country format and ISO 7064 mod-97 check) by `validator`;
 * phone numbers by `libphonenumber-js` (Google's libphonenumber metadata: the number must be
 * possible for its region). US Social Security numbers and AWS access key ids are formats no
 * library validates, so their rules are written here, each with its source. Matches become
 * `{ENTITY}`, as Bedrock Guardrails masks them.
 */
import isCreditCardModule from 'validator/lib/isCreditCard.js';
import isEmailModule from 'validator/lib/isEmail.js';
import isIbanModule from 'validator/lib/isIBAN.js';
import { findPhoneNumbersInText } from 'libphonenumber-js/min';
import type { LocalPiiEntity } from './entities.js';

// One validator per module (a fraction of the whole library's size); they are CommonJS modules
// whose `default` is the function, under Node's interop and esbuild's alike.
const isCreditCard = isCreditCardModule.default;
const isEmail = isEmailModule.default;
const isIBAN = isIbanModule.default;

/** One match: `[start, end)` in the text. */
interface Span {
  readonly entity: LocalPiiEntity;
  readonly start: number;
  readonly end: number;
}

type Detector = (text: string) => Iterable<Omit<Span, 'entity'>>;

/** Candidates of `pattern` that `valid` accepts. */
function validated(pattern: RegExp, valid: (candidate: string) => boolean): Detector {
  return function* (text) {
    for (const match of text.matchAll(pattern)) {
      if (valid(match[0])) yield { start: match.index, end: match.index + match[0].length };
    }
  };
}

/**
 * Candidates of `pattern` made of separated groups, shortened group by group from the end until
 * `valid` accepts one, since a loose pattern can run into the next word ("DE89 3704 … 00 AND").
 */
function longestValid(pattern: RegExp, valid: (candidate: string) => boolean): Detector {
  return function* (text) {
    for (const match of text.matchAll(pattern)) {
      let candidate = match[0];
      while (candidate !== '') {
        if (valid(candidate)) {
          yield { start: match.index, end: match.index + candidate.length };
          break;
        }
        const cut = candidate.search(/[\s-][^\s-]*$/);
        candidate = cut > 0 ? candidate.slice(0, cut) : '';
      }
    }
  };
}

const digitsOnly = (value: string) => value.replace(/[\s-]/g, '');

/**
 * Social Security numbers as the SSA assigns them (SSA, "Social Security Number Randomization",
 * 2011): area not 000, 666 or 900–999, group not 00, serial not 0000. Written with dashes or
 * spaces: nine bare digits are too often something else.
 */
const SSN = /(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])/g;

/**
 * AWS access key ids (IAM User Guide, "Unique identifier prefixes"): AKIA (long-term), ASIA
 * (temporary), ABIA, ACCA, A3T… followed by 16 upper-case base-32 characters.
 */
const AWS_ACCESS_KEY = /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Z0-9])/g;

const DETECTORS: Readonly<Record<LocalPiiEntity, Detector>> = {
  AWS_ACCESS_KEY: validated(AWS_ACCESS_KEY, () => true),
  EMAIL: validated(/[^\s<>()[\]{},;:"'`@]+@[^\s<>()[\]{},;:"'`@]+\.[^\s<>()[\]{},;:"'`@.]+/g, (c) => isEmail(c)),
  INTERNATIONAL_BANK_ACCOUNT_NUMBER: longestValid(
    /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])/g,
    (c) => isIBAN(c.replace(/\s/g, '')),
  ),
  CREDIT_DEBIT_CARD_NUMBER: longestValid(/(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])/g, (c) =>
    isCreditCard(digitsOnly(c)),
  ),
  US_SOCIAL_SECURITY_NUMBER: validated(SSN, () => true),
  PHONE: (text) =>
    findPhoneNumbersInText(text, { defaultCountry: 'US' }).map(({ startsAt, endsAt }) => ({
      start: startsAt,
      end: endsAt,
    })),
};

/** Detectors run in this order; a later match overlapping an earlier one is dropped. */
const ORDER: readonly LocalPiiEntity[] = [
  'AWS_ACCESS_KEY',
  'EMAIL',
  'INTERNATIONAL_BANK_ACCOUNT_NUMBER',
  'CREDIT_DEBIT_CARD_NUMBER',
  'US_SOCIAL_SECURITY_NUMBER',
  'PHONE',
];

/** What `findPii` found: the masked text and the entity types present. */
export interface PiiResult {
  readonly masked: string;
  readonly entities: readonly LocalPiiEntity[];
}

/** Finds the `entities` in `text` and replaces each match with `{ENTITY}`. */
export function findPii(text: string, entities: ReadonlySet<LocalPiiEntity>): PiiResult {
  const spans: Span[] = [];
  for (const entity of ORDER) {
    if (!entities.has(entity)) continue;
    for (const { start, end } of DETECTORS[entity](text)) {
      if (!spans.some((s) => start < s.end && s.start < end)) spans.push({ entity, start, end });
    }
  }
  if (spans.length === 0) return { masked: text, entities: [] };
  spans.sort((a, b) => a.start - b.start);
  let masked = '';
  let at = 0;
  for (const span of spans) {
    masked += `${text.slice(at, span.start)}{${span.entity}}`;
    at = span.end;
  }
  masked += text.slice(at);
  return { masked, entities: ORDER.filter((e) => spans.some((s) => s.entity === e)) };
}
