/**
 * `npm run check:template`: synthesizes the default stack and every optional part switched on
 * (once per model provider), then lints each template with `cfn-lint` against the CloudFormation
 * resource schemas. Fails on any error, and on any warning not in `scripts/cfn-lint-ignore.json`
 * (each entry names its reason); also fails when an ignore entry no longer matches anything, and
 * when a context key exists that no variant below switches on or names as not optional.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CONTEXT_KEYS } from '../lib/context.js';
import { ROOT, SYNTH_ROOT, synthesize } from './synth.js';

/** Every optional part on; the provider is set per variant. */
const ALL_ON = {
  widgetHosting: true,
  webhookUrl: 'https://hooks.example.com/chat-widget',
  alarmEmail: 'ops@example.com',
  adminCidrs: '203.0.113.0/24,2001:db8::/32',
  adminAllowedOrigins: 'https://admin.example.com',
  visitorChallenge: 'waf',
  budgetTokensPerDay: '5000000',
  modelPriceInputPerMTok: '0.25',
  modelPriceOutputPerMTok: '1.25',
};

/** The templates checked. */
export const VARIANTS: Readonly<Record<string, Readonly<Record<string, string | boolean>>>> = {
  default: {},
  'all-on-openai': {
    ...ALL_ON,
    llmProvider: 'openai',
    openAiModel: 'gpt-4o-mini',
    guardrailProvider: 'local',
    guardrailDenyWords: 'forbidden,classified',
    guardrailPiiAction: 'block',
  },
  'all-on-bedrock': {
    ...ALL_ON,
    llmProvider: 'bedrock',
    bedrockModelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    guardrailProvider: 'bedrock',
    guardrailPiiEntities: 'EMAIL,PHONE',
    guardrailDenyWords: 'forbidden,classified',
    guardrailPromptAttack: 'block',
    guardrailBlockedMessage: 'This message was blocked by policy.',
  },
};

/**
 * Context keys that add nothing to the template when set (numbers and lists the functions or
 * rules read). A new key must be added here or to a variant above, so a new optional part is linted.
 */
const NOT_OPTIONAL_PARTS = new Set([
  'appEnv',
  'allowedOrigins',
  'rateLimitWindowMs',
  'rateLimitMaxRequests',
  'wafRateLimit',
  'wafChatRateLimit',
  'wafTokenRateLimit',
  'wafEvaluationWindowSeconds',
  'openAiBaseUrl',
  'modelTimeoutMs',
  'conversationTtlDays',
  'auditRetentionDays',
  'rotationDays',
  'secretGraceSeconds',
  'dev',
  'budgetTokensPerSession',
  'budgetTokensPerUser',
  'budgetTokensPerIp',
  'budgetDeploymentShards',
  'modelMaxOutputTokens',
  'contextMaxTokens',
  'spendAlarmTokensPer5Min',
]);

interface IgnoreEntry {
  readonly rule: string;
  readonly reason: string;
}

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Start: { readonly LineNumber: number } };
}

/** `cfn-lint` on PATH, else in pyenv's shims (where the image installs it); undefined when absent. */
export function findCfnLint(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v cfn-lint'], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '') return onPath;
  const shim = join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims', 'cfn-lint');
  return existsSync(shim) ? shim : undefined;
}

function loadIgnoreList(): IgnoreEntry[] {
  const entries = JSON.parse(readFileSync(join(ROOT, 'scripts/cfn-lint-ignore.json'), 'utf8')) as IgnoreEntry[];
  for (const entry of entries) {
    if (!/^[EWI]\d{4}$/.test(entry.rule) || typeof entry.reason !== 'string' || entry.reason.length < 20) {
      throw new Error(`cfn-lint-ignore.json: each entry needs a rule id and a reason (${JSON.stringify(entry)})`);
    }
  }
  return entries;
}

async function main(): Promise<void> {
  const problems: string[] = [];
  const covered = new Set([...NOT_OPTIONAL_PARTS, ...Object.values(VARIANTS).flatMap((v) => Object.keys(v))]);
  const uncovered = CONTEXT_KEYS.filter((key) => !covered.has(key));
  if (uncovered.length > 0) {
    problems.push(
      `context keys not covered by any variant: ${uncovered.join(', ')} (add them to VARIANTS or NOT_OPTIONAL_PARTS in scripts/check-template.ts)`,
    );
  }
  const cfnLint = findCfnLint();
  if (cfnLint === undefined) {
    process.stderr.write('check:template: cfn-lint is not installed (looked on PATH and in ~/.pyenv/shims)\n');
    process.exit(2);
  }
  const ignore = loadIgnoreList();

  const started = Date.now();
  // In parallel: each synth is one mostly single-threaded Node process.
  const templates = await Promise.all(
    Object.entries(VARIANTS).map(([name, context]) =>
      synthesize(join(SYNTH_ROOT, `lint-${name}`), { context, bundle: false }),
    ),
  );
  process.stdout.write(`synthesized ${templates.length} variants in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const lint = spawnSync(cfnLint, ['--format', 'json', '--', ...templates], { encoding: 'utf8', cwd: ROOT });
  if (lint.error || (lint.status !== 0 && lint.stdout.trim() === '')) {
    throw new Error(`cfn-lint did not run: ${lint.error?.message ?? lint.stderr}`);
  }
  const findings = JSON.parse(lint.stdout) as Finding[];
  const used = new Set<string>();
  for (const finding of findings) {
    const id = finding.Rule.Id;
    const ignored = finding.Level === 'Warning' && ignore.some((entry) => entry.rule === id);
    if (ignored) {
      used.add(id);
      continue;
    }
    const where = `${finding.Filename.replace(`${ROOT}/`, '')}:${finding.Location.Start.LineNumber}`;
    problems.push(`${id} ${finding.Level}: ${finding.Message} (${where})`);
  }
  for (const entry of ignore) {
    if (!used.has(entry.rule)) problems.push(`ignore entry ${entry.rule} matches nothing any more: remove it`);
  }
  for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`);
  const ignoredCount = findings.length - problems.filter((p) => /^[EWI]\d{4} /.test(p)).length;
  process.stdout.write(
    `check:template: ${templates.length} templates, ${problems.length} problems, ${ignoredCount} findings ignored by rule (${[...used].join(', ') || 'none'})\n`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}

await main();
