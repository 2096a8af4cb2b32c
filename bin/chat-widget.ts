/** The CDK app entry: `npx cdk synth` / `npx cdk deploy`. */
import { App } from 'aws-cdk-lib';
import { ChatWidgetStack } from '../lib/chat-widget-stack.js';

const app = new App();
new ChatWidgetStack(app, 'ChatWidget', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
