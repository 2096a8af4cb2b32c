/**
 * Rotation end to end on the synthesized stack: moto's RotateSecret runs the synthesized rotation
 * bundle through createSecret, setSecret, testSecret and finishSecret (start:synth's Lambda Invoke
 * endpoint), for every secret the template schedules; then the synthesized API functions accept
 * the new value, still accept the old one within SECRET_GRACE_SECONDS, and refuse it after: the
 * three keys, and tokens signed with the widget signing secret. The webhook signing secret is
 * rotated here too, but only a deployment with `webhookUrl` signs with it: its grace period is
 * proven in test/e2e/webhooks.test.ts and test/unit/lib/webhooks/sender.test.ts.
 */
import { readFileSync } from 'node:fs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SignJWT } from 'jose';
import { startSynthServer, type SynthServer } from '../../local/synth/server.js';
import { http, postJson, type HttpResponse } from '../helpers/http.js';
import { testSecrets } from '../helpers/local-server.js';

/** Small, so the test sees the old value refused; the template's value is a day. */
const GRACE_SECONDS = 45;
const CACHE_TTL_SECONDS = 1;
const POLL_MS = 250;

interface TemplateResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/** Each rotation schedule of the template: the secret's name and the rotation function's logical id. */
function rotationSchedules(templatePath: string): { secretName: string; functionId: string; days: number }[] {
  const resources = (JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, TemplateResource> })
    .Resources;
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::SecretsManager::RotationSchedule')
    .map((r) => {
      const secretId = (r.Properties.SecretId as { Ref: string }).Ref;
      const [functionId] = (r.Properties.RotationLambdaARN as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      const rules = r.Properties.RotationRules as { ScheduleExpression?: string; AutomaticallyAfterDays?: number };
      const days =
        rules.AutomaticallyAfterDays ?? Number(/rate\((\d+) days?\)/.exec(rules.ScheduleExpression ?? '')?.[1]);
      return { secretName: resources[secretId]?.Properties.Name as string, functionId, days };
    });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('secret rotation on the synthesized stack', () => {
  const templatePath = process.env.SYNTH_TEMPLATE as string;
  const secrets = testSecrets();
  let server: SynthServer;
  let sm: SecretsManagerClient;
  let output = '';
  const before = new Map<string, string>();
  const after = new Map<string, { value: string; createdAt: number }>();

  /** The request each key opens, by the secret's name: a 2xx with the right value. */
  const probes: Record<string, (value: string) => Promise<HttpResponse>> = {
    'widget-api-key': (value) =>
      postJson(
        `${server.url}/v1/chat`,
        { sessionId: `rot-${Date.now()}`, message: 'hi' },
        { 'X-Widget-Api-Key': value },
      ),
    'admin-api-key': (value) =>
      http(`${server.url}/v1/admin/audit?limit=1`, { headers: { Authorization: `Bearer ${value}` } }),
    'server-api-key': (value) =>
      postJson(`${server.url}/v1/tokens`, { userId: 'rotation-user' }, { Authorization: `Bearer ${value}` }),
    // A token signed with the value, as a customer's backend signs it, on a chat with the widget
    // key of the moment (rotated too, so the newest one the test knows).
    'widget-signing-secret': async (value) =>
      postJson(
        `${server.url}/v1/chat`,
        { sessionId: `rot-token-${Date.now()}`, message: 'hi' },
        {
          'X-Widget-Api-Key': latest('widget-api-key'),
          Authorization: `Bearer ${await new SignJWT({ sub: 'rotation-user' })
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(value))}`,
        },
      ),
  };
  const probed = (name: string) => Object.keys(probes).find((key) => name.endsWith(`/${key}`));
  /** The newest value the test knows of the secret named `key`: rotated, else the first. */
  const latest = (key: string) => {
    const name = [...before.keys()].find((n) => probed(n) === key) as string;
    return after.get(name)?.value ?? before.get(name) ?? '';
  };

  beforeAll(async () => {
    server = await startSynthServer({
      templatePath,
      secretValues: {
        'widget-api-key': secrets.widgetKey,
        'admin-api-key': secrets.adminKey,
        'server-api-key': secrets.serverKey,
        'widget-signing-secret': secrets.signingSecret,
      },
      functionEnv: {
        SECRET_GRACE_SECONDS: String(GRACE_SECONDS),
        SECRET_CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS),
        REQUIRE_WIDGET_TOKEN: 'false',
        RATE_LIMIT_MAX_REQUESTS: '100000',
        TOKEN_RATE_LIMIT_MAX: '100000',
        ADMIN_RATE_LIMIT_MAX: '100000',
        AUTH_FAILURE_LIMIT: '100000',
      },
      onOutput: (text) => {
        output += text;
      },
    });
    sm = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.endpoints.moto,
      credentials: server.credentials,
    });
    for (const { secretName } of rotationSchedules(templatePath)) {
      const id = server.secretIds.get(secretName) as string;
      before.set(secretName, (await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString as string);
    }
    // Load each probed function once with the values of before, so the rotation meets warm caches.
    for (const [name, value] of before) {
      const key = probed(name);
      if (key) expect((await probes[key]!(value)).status).toBeLessThan(300);
    }
  }, 240_000);
  afterAll(async () => {
    sm?.destroy();
    await server?.close();
  });

  it('should find a rotation schedule for every secret of the service', () => {
    // Assess
    const names = rotationSchedules(templatePath).map((s) => s.secretName.split('/').pop());
    expect(names.sort()).toEqual(
      ['admin-api-key', 'server-api-key', 'webhook-signing-secret', 'widget-api-key', 'widget-signing-secret'].sort(),
    );
  });

  it('should rotate every scheduled secret through the four steps of the synthesized rotation function', async () => {
    for (const { secretName, functionId, days } of rotationSchedules(templatePath)) {
      // Prepare
      const id = server.secretIds.get(secretName) as string;

      // Act: what a schedule (or "Rotate secret immediately") does
      await sm.send(
        new RotateSecretCommand({
          SecretId: id,
          RotationLambdaARN: `arn:aws:lambda:us-east-1:123456789012:function:ChatWidget-${functionId}`,
          RotationRules: { AutomaticallyAfterDays: days },
          RotateImmediately: true,
        }),
      );

      // Assess: read with explicit stages (the way Secrets Manager defines them)
      const current = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSCURRENT' }));
      const previous = await sm.send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }));
      expect(previous.SecretString).toBe(before.get(secretName));
      expect(current.SecretString).not.toBe(before.get(secretName));
      expect(current.SecretString).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      const described = await sm.send(new DescribeSecretCommand({ SecretId: id }));
      expect(described.RotationEnabled).toBe(true);
      const stages = Object.entries(described.VersionIdsToStages ?? {});
      const labelled = (label: string) => stages.filter(([, on]) => on.includes(label)).map(([version]) => version);
      expect(labelled('AWSCURRENT')).toEqual([current.VersionId]);
      expect(labelled('AWSPREVIOUS')).toEqual([previous.VersionId]);
      // AWS drops AWSPENDING once the function returns; moto leaves it on the new current version.
      expect(labelled('AWSPENDING').filter((version) => version !== current.VersionId)).toEqual([]);
      after.set(secretName, { value: current.SecretString as string, createdAt: current.CreatedDate?.getTime() ?? 0 });
    }
    expect(output).not.toMatch(/invocation failed/);
    expect(output.match(/"message":"rotation step"/g)?.length).toBe(4 * after.size);
  });

  it('should accept the new value, the old one within the grace period, and refuse the old one after it', async () => {
    const checked = [...after].filter(([name]) => probed(name) !== undefined);
    expect(checked).toHaveLength(Object.keys(probes).length);
    for (const [name, { value }] of checked) {
      const probe = probes[probed(name) as string]!;

      // Act / Assess: the new value once the functions' caches expire (bounded wait), and the old one still
      const deadline = Date.now() + 30_000;
      let fresh = await probe(value);
      while (fresh.status >= 300 && Date.now() < deadline) {
        await sleep(POLL_MS);
        fresh = await probe(value);
      }
      expect(fresh.status).toBeLessThan(300);
      expect((await probe(before.get(name) as string)).status).toBeLessThan(300);
    }

    // Act: wait out the grace period of the last rotation, plus one cache lifetime
    const lastRotation = Math.max(...checked.map(([, v]) => v.createdAt));
    await sleep(Math.max(0, lastRotation + (GRACE_SECONDS + CACHE_TTL_SECONDS + 1) * 1000 - Date.now()));

    // Assess
    for (const [name, { value }] of checked) {
      const probe = probes[probed(name) as string]!;
      expect([401, 403]).toContain((await probe(before.get(name) as string)).status);
      expect((await probe(value)).status).toBeLessThan(300);
    }
  }, 240_000);

  it('should never print a secret value in any function log', () => {
    // Assess
    for (const value of [...before.values(), ...[...after.values()].map((v) => v.value)]) {
      expect(output).not.toContain(value);
    }
  });
});
