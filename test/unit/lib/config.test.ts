import { API_GATEWAY_MAX_BODY_BYTES, loadConfig } from '../../../lambdas/lib/config.js';
import { ConfigurationError } from '../../../lambdas/lib/errors.js';

const PRODUCTION = { APP_ENV: 'production', CORS_ORIGIN: 'https://app.example.com' };

/** Runs `loadConfig` and returns the `ConfigurationError` it throws. */
function configErrorOf(env: Record<string, string>): ConfigurationError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  it('It should apply the documented defaults to an empty environment', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config).toMatchObject({
      appEnv: 'development',
      production: false,
      port: 3000,
      host: '127.0.0.1',
      localDataDir: '.local',
      localDynamoDb: 'auto',
      dynamoDbEndpoint: undefined,
      conversationsTable: 'chat-widget-conversations',
      securityTable: 'chat-widget-security',
      secretCacheTtlSeconds: 300,
      secretGraceSeconds: 86400,
      secretMaxStaleSeconds: 3600,
      corsOrigins: [],
      adminCorsOrigins: [],
      requireWidgetToken: false,
      widgetTokenMaxTtlSeconds: 86400,
      widgetTokenAudience: undefined,
      widgetTokenIssuer: undefined,
      rateLimit: {
        windowMs: 60000,
        ipMax: 60,
        sessionMax: 20,
        userMax: 30,
        tokenMax: 120,
        adminMax: 60,
        authFailureMax: 10,
        failOpen: false,
      },
      maxBodyBytes: 65536,
      conversationTtlDays: 30,
      auditRetentionDays: 90,
      idempotencyTable: 'chat-widget-idempotency',
      llm: { provider: 'echo', contextMessages: 20, timeoutMs: 25000, connectTimeoutMs: 3000 },
      logLevel: 'info',
    });
  });

  it('It should read the values it is given', () => {
    // Act
    const config = loadConfig({
      PORT: '8080',
      MAX_BODY_BYTES: '1024',
      RATE_LIMIT_FAIL_OPEN: 'true',
      CORS_ORIGIN: 'https://app.example.com,https://*.example.org',
      ADMIN_CORS_ORIGIN: 'https://admin.example.com',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      WIDGET_TOKEN_AUDIENCE: 'widgets',
      WIDGET_API_KEY: 'current-value',
      WIDGET_API_KEY_PREVIOUS: 'previous-value',
    });

    // Assess
    expect(config.port).toBe(8080);
    expect(config.maxBodyBytes).toBe(1024);
    expect(config.rateLimit.failOpen).toBe(true);
    expect(config.corsOrigins).toEqual([
      { kind: 'exact', origin: 'https://app.example.com' },
      { kind: 'wildcard', scheme: 'https', suffix: '.example.org', port: '' },
    ]);
    expect(config.adminCorsOrigins).toEqual([{ kind: 'exact', origin: 'https://admin.example.com' }]);
    expect(config.dynamoDbEndpoint).toBe('http://127.0.0.1:8000');
    expect(config.widgetTokenAudience).toBe('widgets');
    expect(config.secretOverrides.WIDGET_API_KEY).toEqual({ current: 'current-value', previous: 'previous-value' });
    expect(config.secretOverrides.ADMIN_API_KEY).toEqual({ current: undefined, previous: undefined });
  });

  it('It should treat an empty number as its default', () => {
    // Act
    const config = loadConfig({ MAX_BODY_BYTES: '' });

    // Assess
    expect(config.maxBodyBytes).toBe(65536);
  });

  it.each([
    ['MAX_BODY_BYTES', '1.5', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', '1e5', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', '0x400', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', ' 1024', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', '-1', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', '255', 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', String(API_GATEWAY_MAX_BODY_BYTES + 1), 'must be a whole number from 256 to 10485760'],
    ['MAX_BODY_BYTES', '99999999999999999999', 'must be a whole number from 256 to 10485760'],
    ['PORT', '65536', 'must be a whole number from 0 to 65535'],
    ['PORT', 'http', 'must be a whole number from 0 to 65535'],
    ['SECRET_CACHE_TTL_SECONDS', '0', 'must be a whole number from 1 to 86400'],
    ['SECRET_GRACE_SECONDS', '2592001', 'must be a whole number from 0 to 2592000'],
    ['WIDGET_TOKEN_MAX_TTL_SECONDS', '59', 'must be a whole number from 60 to 2592000'],
    ['RATE_LIMIT_WINDOW_MS', '999', 'must be a whole number from 1000 to 3600000'],
    ['RATE_LIMIT_MAX_REQUESTS', '0', 'must be a whole number from 1 to 1000000'],
    ['CONTEXT_MESSAGES', '201', 'must be a whole number from 1 to 200'],
    ['MODEL_TIMEOUT_MS', '999', 'must be a whole number from 1000 to 900000'],
    ['MODEL_CONNECT_TIMEOUT_MS', '60001', 'must be a whole number from 100 to 60000'],
    ['IDEMPOTENCY_TABLE', 'no spaces allowed', 'must be a DynamoDB table name'],
    ['APP_ENV', 'prod', 'must be "development" or "production"'],
    ['APP_ENV', 'PRODUCTION', 'must be "development" or "production"'],
    ['LOCAL_DYNAMODB', 'sqlite', 'must be one of auto, java, dynalite, memory'],
    ['LLM_PROVIDER', 'gpt', 'must be one of echo, openai, bedrock'],
    ['LOG_LEVEL', 'trace', 'must be one of debug, info, warn, error, silent'],
    ['RATE_LIMIT_FAIL_OPEN', 'yes', 'must be "true" or "false"'],
    ['REQUIRE_WIDGET_TOKEN', '1', 'must be "true" or "false"'],
    ['DYNAMODB_ENDPOINT', 'ftp://db.example.com', 'must be an http(s) URL'],
    ['DYNAMODB_ENDPOINT', 'not a url', 'must be an http(s) URL'],
    ['OPENAI_BASE_URL', 'file:///etc/passwd', 'must be an http(s) URL'],
    ['CONVERSATIONS_TABLE', 'my table', 'must be a DynamoDB table name'],
    ['SECURITY_TABLE', 'ab', 'must be a DynamoDB table name'],
    ['SECURITY_TABLE', 'a'.repeat(256), 'must be a DynamoDB table name'],
    ['WIDGET_TOKEN_AUDIENCE', 'a'.repeat(257), 'must be at most 256 characters'],
  ])('It should refuse %s=%j, naming the variable and what is allowed', (name, value, allowed) => {
    // Act
    const error = configErrorOf({ [name]: value });

    // Assess
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.name).toBe('ConfigurationError');
    expect(error.problems).toEqual([expect.stringContaining(name)]);
    expect(error.problems[0]).toContain(allowed);
    expect(error.message).toContain(name);
  });

  it('It should collect several schema problems into one error', () => {
    // Act
    const error = configErrorOf({ PORT: 'x', APP_ENV: 'prod', LOG_LEVEL: 'loud' });

    // Assess
    expect(error.problems).toHaveLength(3);
    for (const name of ['PORT', 'APP_ENV', 'LOG_LEVEL']) expect(error.message).toContain(name);
  });

  it('It should collect problems from both origin lists into one error', () => {
    // Act
    const error = configErrorOf({ CORS_ORIGIN: 'https://*.com', ADMIN_CORS_ORIGIN: 'ftp://admin.example.com' });

    // Assess
    expect(error.problems).toEqual([
      expect.stringContaining('CORS_ORIGIN has a wildcard over a top-level domain'),
      expect.stringContaining('ADMIN_CORS_ORIGIN has an invalid entry'),
    ]);
  });

  it('It should report a bad number and a bad origin list together', () => {
    // Act
    const error = configErrorOf({ MAX_BODY_BYTES: 'lots', CORS_ORIGIN: 'https://*.com' });

    // Assess
    expect(error.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('MAX_BODY_BYTES'), expect.stringContaining('CORS_ORIGIN')]),
    );
  });

  it.each([
    'WIDGET_API_KEY',
    'WIDGET_API_KEY_PREVIOUS',
    'ADMIN_API_KEY',
    'SERVER_API_KEY_PREVIOUS',
    'WIDGET_SIGNING_SECRET',
    'OPENAI_API_KEY',
  ])('It should name %s when its value is too long, without echoing the value', (name) => {
    // Prepare
    const secret = `S3cr3tMarker-${'x'.repeat(5000)}`;

    // Act
    const error = configErrorOf({ [name]: secret });

    // Assess
    expect(error.problems).toEqual([expect.stringContaining(name)]);
    expect(error.message).not.toContain('S3cr3tMarker');
    expect(error.message).not.toContain('xxxxxxxx');
  });

  it('It should not echo a secret override when another variable is bad', () => {
    // Act
    const error = configErrorOf({ ADMIN_API_KEY: 'S3cr3tMarker-admin', PORT: 'x' });

    // Assess
    expect(error.message).not.toContain('S3cr3tMarker');
  });

  describe('in production', () => {
    it('It should start with an explicit origin list', () => {
      // Act
      const config = loadConfig(PRODUCTION);

      // Assess
      expect(config.production).toBe(true);
      expect(config.corsOrigins).toEqual([{ kind: 'exact', origin: 'https://app.example.com' }]);
    });

    it.each([
      ['"*" alone', '*'],
      ['"*" among exact origins', 'https://app.example.com,*'],
    ])('It should refuse CORS_ORIGIN with %s', (_label, value) => {
      // Act
      const error = configErrorOf({ APP_ENV: 'production', CORS_ORIGIN: value });

      // Assess
      expect(error.problems).toEqual([expect.stringMatching(/^CORS_ORIGIN must not contain "\*"/)]);
    });

    it('It should refuse "*" in ADMIN_CORS_ORIGIN', () => {
      // Act
      const error = configErrorOf({ ...PRODUCTION, ADMIN_CORS_ORIGIN: '*' });

      // Assess
      expect(error.problems).toEqual([expect.stringMatching(/^ADMIN_CORS_ORIGIN must not contain "\*"/)]);
    });

    it.each([
      ['unset', {}],
      ['empty', { CORS_ORIGIN: '' }],
      ['only commas and blanks', { CORS_ORIGIN: ' , ,' }],
    ])('It should refuse a CORS_ORIGIN that is %s', (_label, env) => {
      // Act
      const error = configErrorOf({ APP_ENV: 'production', ...env });

      // Assess
      expect(error.problems).toEqual(['CORS_ORIGIN must list at least one origin when APP_ENV=production']);
    });

    it('It should refuse a plain-http OpenAI endpoint, which would carry the model key in clear', () => {
      const error = configErrorOf({
        ...PRODUCTION,
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: 'http://llm.example.com/v1',
      });
      expect(error.problems).toEqual(['OPENAI_BASE_URL must be an https URL when APP_ENV=production']);
      expect(() =>
        loadConfig({ ...PRODUCTION, LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://llm.example.com/v1' }),
      ).not.toThrow();
    });

    it.each([
      ['a plain-http URL', 'http://hooks.example.com/in', ['WEBHOOK_URL must be an https URL when APP_ENV=production']],
      ['an https URL', 'https://hooks.example.com/in', []],
    ])('It should judge a WEBHOOK_URL that is %s', (_label, url, problems) => {
      // Act
      const attempt = () => loadConfig({ ...PRODUCTION, WEBHOOK_URL: url });

      // Assess
      if (problems.length > 0) expect(configErrorOf({ ...PRODUCTION, WEBHOOK_URL: url }).problems).toEqual(problems);
      else expect(attempt().webhook.url).toBe(url);
    });

    it('It should require widget tokens by default', () => {
      // Act
      const config = loadConfig(PRODUCTION);

      // Assess
      expect(config.requireWidgetToken).toBe(true);
    });

    it('It should let REQUIRE_WIDGET_TOKEN=false turn tokens off explicitly', () => {
      // Act
      const config = loadConfig({ ...PRODUCTION, REQUIRE_WIDGET_TOKEN: 'false' });

      // Assess
      expect(config.requireWidgetToken).toBe(false);
    });
  });

  describe('in development', () => {
    it('It should allow "*" as any origin', () => {
      // Act
      const config = loadConfig({ CORS_ORIGIN: '*' });

      // Assess
      expect(config.corsOrigins).toEqual([{ kind: 'any' }]);
    });

    it('It should not require widget tokens by default', () => {
      // Act
      const config = loadConfig({ APP_ENV: 'development' });

      // Assess
      expect(config.requireWidgetToken).toBe(false);
    });

    it('It should let REQUIRE_WIDGET_TOKEN=true turn tokens on', () => {
      // Act
      const config = loadConfig({ REQUIRE_WIDGET_TOKEN: 'true' });

      // Assess
      expect(config.requireWidgetToken).toBe(true);
    });
  });

  it('It should return a deeply frozen configuration', () => {
    // Prepare
    const config = loadConfig({ CORS_ORIGIN: 'https://app.example.com' });

    // Act
    const writes = [
      () => {
        (config as { port: number }).port = 1;
      },
      () => {
        (config.rateLimit as { ipMax: number }).ipMax = 1e9;
      },
      () => {
        (config.corsOrigins as unknown[]).push({ kind: 'any' });
      },
      () => {
        (config.secretOverrides.WIDGET_API_KEY as { current?: string }).current = 'injected';
      },
    ];

    // Assess
    for (const write of writes) expect(write).toThrow(TypeError);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.llm)).toBe(true);
    expect(Object.isFrozen(config.corsOrigins[0])).toBe(true);
    expect(config.port).toBe(3000);
    expect(config.corsOrigins).toHaveLength(1);
  });
});

describe('webhook configuration', () => {
  it('It should send no webhooks by default, and retry 8 times from 5 s when it does', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.webhook).toEqual({
      url: undefined,
      queueUrl: undefined,
      maxAttempts: 8,
      retryBaseMs: 5000,
      timeoutMs: 5000,
    });
  });

  it.each([
    ['WEBHOOK_URL', 'ftp://hooks.example.com'],
    ['WEBHOOK_URL', 'not a url'],
    ['WEBHOOK_QUEUE_URL', 'http://sqs.example.com/q'],
    ['WEBHOOK_MAX_ATTEMPTS', '0'],
    ['WEBHOOK_MAX_ATTEMPTS', '21'],
    ['WEBHOOK_RETRY_BASE_MS', '5'],
    ['WEBHOOK_TIMEOUT_MS', '60000'],
  ])('It should refuse %s=%s, naming the variable', (name, value) => {
    // Act
    const error = configErrorOf({ [name]: value });

    // Assess
    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${name} `))]);
  });
});
