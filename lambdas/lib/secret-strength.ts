/**
 * Strength rules for every secret (API keys and the signing secret): long enough, high entropy,
 * no runs, no keyboard or alphabet sequences, no dictionary words, and all distinct.
 * Problems name the secret, never its value.
 */
import { randomBytes } from 'node:crypto';

export const MIN_SECRET_LENGTH = 32;
const MIN_BITS_PER_CHAR = 3.5;
const MIN_DISTINCT_CHARS = 16;
const MAX_RUN = 3;
const MAX_SEQUENCE = 4;
const WORDS = [
  'password',
  'passwd',
  'secret',
  'changeme',
  'change',
  'admin',
  'example',
  'default',
  'qwerty',
  'asdfgh',
  'zxcvbn',
  'letmein',
  'welcome',
  'master',
  'dragon',
  'monkey',
  'shadow',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'iloveyou',
  'trustno',
  'superman',
  'batman',
  'access',
  'widget',
  'apikey',
  'token',
  'sample',
  'dummy',
  'placeholder',
  'insecure',
  'development',
  'staging',
  'production',
];

/** Shannon entropy of `value`, in bits per character. */
export function bitsPerChar(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function longestRun(value: string): number {
  let best = 1;
  let run = 1;
  for (let i = 1; i < value.length; i += 1) {
    run = value[i] === value[i - 1] ? run + 1 : 1;
    best = Math.max(best, run);
  }
  return best;
}

function longestSequence(value: string): number {
  let best = 1;
  let up = 1;
  let down = 1;
  for (let i = 1; i < value.length; i += 1) {
    const step = value.charCodeAt(i) - value.charCodeAt(i - 1);
    up = step === 1 ? up + 1 : 1;
    down = step === -1 ? down + 1 : 1;
    best = Math.max(best, up, down);
  }
  return best;
}

/** Lists what is wrong with one secret value; an empty list means it is strong enough. */
export function secretWeaknesses(value: string): string[] {
  const problems: string[] = [];
  if (value.length < MIN_SECRET_LENGTH) problems.push(`is shorter than ${MIN_SECRET_LENGTH} characters`);
  if (new Set(value).size < MIN_DISTINCT_CHARS || bitsPerChar(value) < MIN_BITS_PER_CHAR) {
    problems.push('has too little entropy (too few distinct characters)');
  }
  if (longestRun(value) > MAX_RUN) problems.push(`repeats a character more than ${MAX_RUN} times in a row`);
  if (longestSequence(value.toLowerCase()) > MAX_SEQUENCE)
    problems.push('contains a sequence such as "abcde" or "12345"');
  const lower = value.toLowerCase();
  const word = WORDS.find((w) => lower.includes(w));
  if (word !== undefined) problems.push('contains a dictionary word');
  return problems;
}

/** Checks a set of named secrets: each must be strong, and no two may be equal. */
export function checkSecrets(secrets: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(secrets)) {
    for (const weakness of secretWeaknesses(value)) problems.push(`${name} ${weakness}`);
    const twin = seen.get(value);
    if (twin !== undefined) problems.push(`${name} has the same value as ${twin}; every secret must be distinct`);
    seen.set(value, name);
  }
  return problems;
}

/** Generates a random secret (48 base64url characters, 288 bits) that passes every strength rule. */
export function generateSecret(): string {
  for (;;) {
    const candidate = randomBytes(36).toString('base64url');
    if (secretWeaknesses(candidate).length === 0) return candidate;
  }
}
