/**
 * The stack: wires the constructs together, nothing else. Today it holds the data layer; the
 * API, WAF, Lambda functions, secrets and monitoring are added by the infrastructure issue.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Tables } from './constructs/tables.js';

/** Props of `ChatWidgetStack`. */
export interface ChatWidgetStackProps extends StackProps {
  /**
   * Keep the tables when the stack is deleted.
   * @default true
   */
  readonly retainData?: boolean;
}

/** The chat widget backend. */
export class ChatWidgetStack extends Stack {
  readonly tables: Tables;

  constructor(scope: Construct, id: string, props: ChatWidgetStackProps = {}) {
    super(scope, id, props);
    this.tables = new Tables(this, 'Tables', { retainData: props.retainData });
  }
}
