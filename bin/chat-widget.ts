/**
 * The CDK app entry: `npx cdk synth` / `npx cdk deploy -c allowedOrigins=https://app.example.com …`.
 * Context is validated before anything is built; cdk-nag's AWS Solutions checks run on synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatWidgetStack } from '../lib/chat-widget-stack.js';
import { CONTEXT_KEYS, parseContext } from '../lib/context.js';

const app = new App();
const raw: Record<string, unknown> = Object.fromEntries(
  CONTEXT_KEYS.map((key): [string, unknown] => [key, app.node.tryGetContext(key)]).filter(([, v]) => v !== undefined),
);
const settings = parseContext(raw);
new ChatWidgetStack(app, 'ChatWidget', {
  settings,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
