/**
 * Folds text into the one form phrase lists are matched against, so the usual disguises of a
 * known phrasing match it too: compatibility forms (fullwidth letters, ligatures) by Unicode NFKC;
 * invisible characters (zero-width spaces and joiners, soft hyphens, other format characters)
 * removed; accents stripped; common look-alike letters (Cyrillic and Greek homoglyphs, digit
 * "leet" spellings inside words) folded to Latin; letters spelled out one by one ("i g n o r e")
 * joined; case folded; punctuation and runs of whitespace collapsed to one space.
 * The confusables are a small subset of Unicode TR39's confusables.txt: the letters that look
 * like a–z in common fonts.
 */

/** Look-alikes of Latin letters (Unicode TR39 confusables, the letters used in practice). */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  һ: 'h',
  і: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  г: 'r',
  ѕ: 's',
  т: 't',
  ц: 'u',
  ѵ: 'v',
  ԝ: 'w',
  х: 'x',
  у: 'y',
  // Greek
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  // Latin small capitals (IPA letters)
  ᴀ: 'a',
  ʙ: 'b',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ɢ: 'g',
  ʜ: 'h',
  ɪ: 'i',
  ᴊ: 'j',
  ᴋ: 'k',
  ʟ: 'l',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ʀ: 'r',
  ꜱ: 's',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ʏ: 'y',
  ᴢ: 'z',
  // Latin
  ı: 'i',
  ł: 'l',
  ø: 'o',
  ß: 'ss',
};

/** Digits and signs used as letters inside words ("1gn0re", "pr0mpt", "@ll"). */
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};

const INVISIBLE = /[\p{Cf}\u034f\u115f\u1160\u3164\uffa0]/gu;
const MARKS = /\p{M}/gu;
const LOOK_ALIKE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'gu');
/** A word that mixes letters with leet digits or signs. */
const LEET_WORD = /[\p{L}0-9@$]*\p{L}[\p{L}0-9@$]*/gu;
/** Three or more single letters separated by one separator each: "i g n o r e", "i.g.n.o.r.e". */
const SPELLED_OUT = /(?<!\p{L})\p{L}(?:[\s._*\-/|]\p{L}(?!\p{L})){2,}/gu;

/** The matching form of `text` (see the module comment). */
export function normalizeForMatching(text: string): string {
  const folded = text
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .normalize('NFD')
    .replace(MARKS, '')
    .toLowerCase()
    .replace(LOOK_ALIKE, (c) => CONFUSABLES[c] ?? c)
    .replace(LEET_WORD, (word) => (/[0-9@$]/.test(word) ? word.replace(/[0-9@$]/g, (c) => LEET[c] ?? c) : word))
    .replace(SPELLED_OUT, (run) => run.replace(/[^\p{L}]/gu, ''));
  return folded.replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** The words of `text` in matching form. */
export function wordsForMatching(text: string): string[] {
  const normal = normalizeForMatching(text);
  return normal === '' ? [] : normal.split(' ');
}
