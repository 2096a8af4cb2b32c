/**
 * start:synth runs the bundles without AWS WAF in front: a template deployed with
 * `visitorChallenge=waf` must not mint visitor tokens for free here (design §14), as on `npm start`.
 */
import { standInForWaf } from '../../../local/synth/stand-ins.js';

describe('standInForWaf', () => {
  it.each<[string, Record<string, string>, Record<string, string>]>([
    [
      'waf becomes pow',
      { VISITOR_CHALLENGE: 'waf', APP_ENV: 'production' },
      { VISITOR_CHALLENGE: 'pow', APP_ENV: 'production' },
    ],
    ['pow stays pow', { VISITOR_CHALLENGE: 'pow' }, { VISITOR_CHALLENGE: 'pow' }],
    ['none stays none (production refuses it at start)', { VISITOR_CHALLENGE: 'none' }, { VISITOR_CHALLENGE: 'none' }],
    ['no challenge variable stays without one', { APP_ENV: 'production' }, { APP_ENV: 'production' }],
  ])('should answer %s', (_name, environment, expected) => {
    // Act
    const local = standInForWaf(environment);

    // Assess
    expect(local).toEqual(expected);
  });
});
