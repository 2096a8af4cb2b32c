import { isOriginAllowed, parseOrigin, parseOriginList, type OriginRule } from '../../../lambdas/lib/origins.js';

const rulesOf = (raw: string, allowStar = false): OriginRule[] => {
  const { rules, problems } = parseOriginList(raw, { allowStar });
  expect(problems).toEqual([]);
  return rules;
};

describe('parseOrigin', () => {
  it.each([
    ['https://app.example.com', { scheme: 'https', host: 'app.example.com', port: '' }],
    ['http://localhost:3000', { scheme: 'http', host: 'localhost', port: '3000' }],
    ['https://app.example.com:443', { scheme: 'https', host: 'app.example.com', port: '' }],
    ['http://app.example.com:80', { scheme: 'http', host: 'app.example.com', port: '' }],
    ['https://app.example.com:80', { scheme: 'https', host: 'app.example.com', port: '80' }],
    ['HTTPS://APP.Example.COM', { scheme: 'https', host: 'app.example.com', port: '' }],
  ])('It should parse %j as a browser-serialized origin', (value, expected) => {
    // Act
    const parsed = parseOrigin(value);

    // Assess
    expect(parsed).toEqual(expected);
  });

  it.each([
    ['null', 'null'],
    ['an empty string', ''],
    ['a path', 'https://app.example.com/'],
    ['a query', 'https://app.example.com?x=1'],
    ['a fragment', 'https://app.example.com#x'],
    ['userinfo', 'https://user@app.example.com'],
    ['userinfo with a password', 'https://user:pw@app.example.com'],
    ['another scheme', 'ftp://app.example.com'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a file: URL', 'file:///etc/passwd'],
    ['no scheme', 'app.example.com'],
    ['a trailing dot', 'https://app.example.com.'],
    ['an empty label', 'https://app..example.com'],
    ['a leading hyphen in a label', 'https://-app.example.com'],
    ['a trailing hyphen in a label', 'https://app-.example.com'],
    ['an underscore', 'https://app_1.example.com'],
    ['a label over 63 characters', `https://${'a'.repeat(64)}.example.com`],
    ['a host over 253 characters', `https://${Array.from({ length: 26 }, () => 'a'.repeat(9)).join('.')}.com`],
    ['port 0', 'https://app.example.com:0'],
    ['port 65536', 'https://app.example.com:65536'],
    ['a port with a leading zero', 'https://app.example.com:0443'],
    ['an empty port', 'https://app.example.com:'],
    ['a leading space', ' https://app.example.com'],
    ['a trailing space', 'https://app.example.com '],
    ['a trailing newline', 'https://app.example.com\n'],
    ['a tab inside', 'https://app.\texample.com'],
    ['a Cyrillic homoglyph', 'https://app.ex\u0430mple.com'],
    ['a full-width dot', 'https://app\uff0eexample.com'],
    ['an IPv6 literal', 'http://[::1]:3000'],
    ['a wildcard', 'https://*.example.com'],
  ])('It should refuse %s', (_label, value) => {
    // Act
    const parsed = parseOrigin(value);

    // Assess
    expect(parsed).toBeUndefined();
  });
});

describe('parseOriginList', () => {
  it('It should parse exact origins and wildcards, trimming blanks and empty entries', () => {
    // Act
    const result = parseOriginList(' https://app.example.com , ,https://*.example.org:8443,http://localhost:3000,', {
      allowStar: false,
    });

    // Assess
    expect(result).toEqual({
      rules: [
        { kind: 'exact', origin: 'https://app.example.com' },
        { kind: 'wildcard', scheme: 'https', suffix: '.example.org', port: '8443' },
        { kind: 'exact', origin: 'http://localhost:3000' },
      ],
      problems: [],
    });
  });

  it('It should normalize a default port and upper case in a rule', () => {
    // Act
    const { rules } = parseOriginList('HTTPS://App.Example.com:443', { allowStar: false });

    // Assess
    expect(rules).toEqual([{ kind: 'exact', origin: 'https://app.example.com' }]);
  });

  it('It should refuse "*" when allowStar is false', () => {
    // Act
    const result = parseOriginList('https://app.example.com,*', { allowStar: false });

    // Assess
    expect(result.rules).toEqual([{ kind: 'exact', origin: 'https://app.example.com' }]);
    expect(result.problems).toEqual([expect.stringContaining('"*"')]);
  });

  it('It should accept "*" as any origin when allowStar is true', () => {
    // Act
    const result = parseOriginList('*', { allowStar: true });

    // Assess
    expect(result).toEqual({ rules: [{ kind: 'any' }], problems: [] });
  });

  it.each([
    ['a wildcard over a top-level domain', 'https://*.com', 'top-level domain'],
    ['a wildcard over a single label with a port', 'http://*.localhost:3000', 'top-level domain'],
    ['a path', 'https://app.example.com/', 'invalid entry'],
    ['a missing scheme', 'app.example.com', 'invalid entry'],
    ['a bare wildcard', '*.example.com', 'invalid entry'],
    ['a double wildcard', 'https://*.*.example.com', 'invalid entry'],
    ['a wildcard inside a label', 'https://a*.example.com', 'invalid entry'],
    ['a wildcard not at the start', 'https://app.*.example.com', 'invalid entry'],
    ['userinfo', 'https://user@app.example.com', 'invalid entry'],
    ['the null origin', 'null', 'invalid entry'],
    ['another scheme', 'wss://app.example.com', 'invalid entry'],
  ])('It should report %s as a problem and drop it', (_label, entry, phrase) => {
    // Act
    const result = parseOriginList(`https://ok.example.com,${entry}`, { allowStar: true });

    // Assess
    expect(result.rules).toEqual([{ kind: 'exact', origin: 'https://ok.example.com' }]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toContain(phrase);
  });

  it('It should report every bad entry, not only the first', () => {
    // Act
    const result = parseOriginList('https://*.com,ftp://x.example.com,*', { allowStar: false });

    // Assess
    expect(result.rules).toEqual([]);
    expect(result.problems).toHaveLength(3);
  });

  it('It should quote at most 100 characters of a bad entry', () => {
    // Prepare
    const entry = `https://${'a'.repeat(500)}/`;

    // Act
    const { problems } = parseOriginList(entry, { allowStar: false });

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('a'.repeat(101));
  });

  it('It should return no rules for an empty list', () => {
    // Act
    const result = parseOriginList('', { allowStar: false });

    // Assess
    expect(result).toEqual({ rules: [], problems: [] });
  });
});

describe('isOriginAllowed', () => {
  const rules = rulesOf('https://app.example.com,https://*.example.org');

  it.each([
    ['the exact origin', 'https://app.example.com'],
    ['the exact origin with its default port', 'https://app.example.com:443'],
    ['the exact origin in upper case (the same origin)', 'HTTPS://APP.EXAMPLE.COM'],
    ['a subdomain of the wildcard', 'https://a.example.org'],
    ['a deeper subdomain of the wildcard', 'https://a.b.example.org'],
    ['a subdomain of the wildcard with its default port', 'https://a.example.org:443'],
    ['a punycode subdomain of the wildcard', 'https://xn--80ak6aa92e.example.org'],
  ])('It should allow %s', (_label, origin) => {
    // Act
    const allowed = isOriginAllowed(origin, rules);

    // Assess
    expect(allowed).toBe(true);
  });

  it.each([
    ['the bare domain of the wildcard', 'https://example.org'],
    ['a look-alike suffix', 'https://example.org.evil.com'],
    ['a subdomain look-alike suffix', 'https://a.example.org.evil.com'],
    ['a prefix look-alike', 'https://evilexample.org'],
    ['a prefix look-alike of the exact origin', 'https://evilapp.example.com'],
    ['a subdomain of the exact origin', 'https://x.app.example.com'],
    ['the parent of the exact origin', 'https://example.com'],
    ['http instead of https (exact)', 'http://app.example.com'],
    ['http instead of https (wildcard)', 'http://a.example.org'],
    ['another port (exact)', 'https://app.example.com:8443'],
    ['another port (wildcard)', 'https://a.example.org:8443'],
    ['the https port over http', 'http://app.example.com:443'],
    ['null', 'null'],
    ['userinfo pointing elsewhere', 'https://a.example.org@evil.com'],
    ['userinfo in front of an allowed host', 'https://evil.com@a.example.org'],
    ['a path', 'https://app.example.com/'],
    ['a path on a wildcard subdomain', 'https://a.example.org/x'],
    ['a trailing dot', 'https://app.example.com.'],
    ['a trailing dot on a wildcard subdomain', 'https://a.example.org.'],
    ['a Cyrillic homoglyph', 'https://\u0430pp.example.com'],
    ['percent-encoded junk', 'https://app%2eexample.com'],
    ['a leading space', ' https://app.example.com'],
    ['a trailing space', 'https://app.example.com '],
    ['a trailing newline', 'https://app.example.com\n'],
    ['an empty string', ''],
    ['the wildcard itself', 'https://*.example.org'],
    ['a backslash trick', 'https://evil.com\\.example.org'],
  ])('It should deny %s', (_label, origin) => {
    // Act
    const allowed = isOriginAllowed(origin, rules);

    // Assess
    expect(allowed).toBe(false);
  });

  it('It should match a wildcard only on its own port', () => {
    // Prepare
    const withPort = rulesOf('https://*.example.org:8443');

    // Act
    const results = [
      isOriginAllowed('https://a.example.org:8443', withPort),
      isOriginAllowed('https://a.example.org', withPort),
      isOriginAllowed('https://a.example.org:443', withPort),
    ];

    // Assess
    expect(results).toEqual([true, false, false]);
  });

  it('It should allow any well-formed origin for the "*" rule but never "null" or junk', () => {
    // Prepare
    const any = rulesOf('*', true);

    // Act
    const results = ['https://anything.example', 'http://localhost:5173', 'null', '', 'https://a.com/path'].map((o) =>
      isOriginAllowed(o, any),
    );

    // Assess
    expect(results).toEqual([true, true, false, false, false]);
  });

  it('It should deny every origin when there are no rules', () => {
    // Act
    const allowed = isOriginAllowed('https://app.example.com', []);

    // Assess
    expect(allowed).toBe(false);
  });
});
