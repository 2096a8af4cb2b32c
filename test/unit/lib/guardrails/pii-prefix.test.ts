/** Trailing PII candidates: where a window that may end inside PII must be held back from. */
import { piiPrefixStart } from '../../../../lambdas/lib/guardrails/pii-prefix.js';

describe('piiPrefixStart', () => {
  it.each<[string, string, string | undefined]>([
    ['a phone number cut after its area code', 'Call (213) ', '(213) '],
    ['an international phone number cut between groups', 'Call +44 20 7946 ', '+44 20 7946 '],
    ['a phone number with an extension marker', 'Call +1 213 373 4253 ext. ', '+1 213 373 4253 ext. '],
    ['a phone number in fullwidth digits', 'Call ２１３ ３７３ ', '２１３ ３７３ '],
    ['a card number cut between groups', 'Card 4111 1111 ', '4111 1111 '],
    ['a card number cut between dashed groups', 'Card 5500-0000-', '5500-0000-'],
    ['a Social Security number cut after its area', 'SSN 123-', '123-'],
    ['an IBAN cut after a group of letters', 'Pay GB82 WEST ', 'GB82 WEST '],
    ['an IBAN cut between digit groups', 'Pay DE89 3704 0044 ', 'DE89 3704 0044 '],
    ['an e-mail address cut inside', 'Mail jane.doe@exa', 'jane.doe@exa'],
    ['an access key id cut inside', 'Key AKIAIOSF', 'AKIAIOSF'],
    ['a number glued to a word, from the word', 'Tel:+44 20 ', 'Tel:+44 20 '],
    ['a sentence ending in a number', 'It costs 20. ', '20. '],
    ['a sentence ending in words', 'Your order ships tomorrow. ', undefined],
    ['punctuation with no digit', 'Well... (see above) ', undefined],
  ])('should hold %s', (_name, text, held) => {
    // Act
    const start = piiPrefixStart(text, 254);

    // Assess
    expect(start === undefined ? undefined : text.slice(start)).toBe(held);
  });

  it('should look back no further than maxChars', () => {
    // Prepare
    const text = `Digits: ${'7 '.repeat(100)}`;

    // Act
    const start = piiPrefixStart(text, 50);

    // Assess
    expect(text.length - (start ?? text.length)).toBe(50);
  });
});
