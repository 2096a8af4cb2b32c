/**
 * Where PII may begin at the end of a stream window (design §13): a window cut inside a phone,
 * card, Social Security or account number, or inside an e-mail address or access key id, shows
 * each detector only a part it cannot recognise, so a stream holds the trailing candidate back
 * and checks it again with the text that follows. The shapes follow the detectors in `pii.ts`.
 */

/**
 * What phone, card and Social Security numbers are written with: digits of any script (as
 * libphonenumber reads them), spaces, the punctuation libphonenumber accepts in a number (its
 * `VALID_PUNCTUATION` and `PLUS_CHARS`), and the extension markers it knows in English.
 */
const NUMBER_RUN =
  /(?:[\p{Nd}\s\u00AD\u200B\u2060\-\u2010-\u2015\u2212\u30FC\uFF0D/\uFF0F.\uFF0E()\uFF08\uFF09\uFF3B\uFF3D[\]~\u2053\u223C\uFF5E+\uFF0B#]|ext(?:ension)?|x)*$/iu;

/** Where a number may begin inside such a run. */
const NUMBER_START = /[\p{Nd}(\uFF08+\uFF0B]/u;

/** A trailing IBAN as `pii.ts` finds one: country code, check digits, then groups of upper-case letters and digits. */
const IBAN_RUN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9])*\s*$/;

/**
 * The index in `text` where a trailing candidate for PII begins, looking at its last `maxChars`
 * characters only (which also bounds the patterns' work), or undefined when its end cannot be the
 * start of any: a run of number characters from its first digit, `(` or `+`; an IBAN in groups;
 * or the last word when `text` ends inside one (an e-mail address or a key id is one word). The
 * candidate is widened to the start of its word, so what is checked without it ends at a space.
 */
export function piiPrefixStart(text: string, maxChars: number): number | undefined {
  const from = Math.max(0, text.length - maxChars);
  const tail = text.slice(from);
  const starts: number[] = [];
  const run = NUMBER_RUN.exec(tail);
  if (run !== null) {
    const at = run[0].search(NUMBER_START);
    if (at >= 0) starts.push(run.index + at);
  }
  const iban = IBAN_RUN.exec(tail);
  if (iban !== null) starts.push(iban.index);
  // Ending inside a word: its last character, widened below to the whole word.
  if (/\S$/.test(tail)) starts.push(tail.length - 1);
  if (starts.length === 0) return undefined;
  let start = from + Math.min(...starts);
  while (start > 0 && /\S/.test(text[start - 1] ?? '')) start--;
  return start;
}
