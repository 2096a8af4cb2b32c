/**
 * The audit trail: every security event becomes a structured log line, an EMF metric and an
 * audit item. Recording never fails a request; the log line is written first, so an event is
 * never lost even when the table is unreachable or the per-instance write budget is spent.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Logger } from './logger.js';
import type { AuditEvent, AuditStore, AuditType } from './audit-events.js';

/** Events caused by unauthenticated traffic: aggregated per minute and budgeted per instance. */
const UNAUTHENTICATED: ReadonlySet<AuditType> = new Set([
  'auth.failure',
  'token.invalid',
  'origin.rejected',
  'rate_limit.exceeded',
  // Whoever holds a revoked or expired key can replay it at will.
  'key.rejected',
  // Anyone with the publishable widget key can send messages that a guardrail blocks.
  'guardrail.blocked',
  'guardrail.prompt_attack',
  // Anyone may send wrong solutions; it is already at most one per address and window.
  'visitor.challenge_failed',
]);

export interface AuditLogOptions {
  readonly store: AuditStore;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /**
   * How many aggregated audit writes one instance makes per second at most; beyond that an
   * event is only logged and counted (a bound on what a flood can cost).
   * @default 20
   */
  readonly writesPerSecond?: number;
  /**
   * Receives every event that is stored (so not the unauthenticated ones over the budget): the
   * webhook feed. Awaited, and it must not throw.
   * @default none
   */
  readonly forward?: (event: AuditEvent) => Promise<void>;
  readonly clock?: () => number;
}

/** Records security events; shared by middlewares and handlers. */
export class AuditLog {
  readonly #options: AuditLogOptions;
  readonly #clock: () => number;
  readonly #budget: number;
  #second = 0;
  #spent = 0;

  constructor(options: AuditLogOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#budget = options.writesPerSecond ?? 20;
  }

  /** Logs, counts, stores and forwards `event`; resolves once stored (or once storing has failed). */
  async record(event: AuditEvent): Promise<void> {
    const { logger, metrics, store, forward } = this.#options;
    logger.warn(`audit ${event.type}`, { audit: { ...event, at: new Date(event.at).toISOString() } });
    metrics?.singleMetric().addMetric(event.type, MetricUnit.Count, 1);
    const unauthenticated = UNAUTHENTICATED.has(event.type);
    const kept = !unauthenticated || this.#takeBudget();
    try {
      if (!unauthenticated) {
        await store.put(event);
      } else if (kept) {
        await store.aggregate(event);
      }
    } catch (error) {
      logger.error('audit store write failed', { auditType: event.type, requestId: event.requestId, error });
    }
    if (kept) await forward?.(event);
  }

  #takeBudget(): boolean {
    const second = Math.floor(this.#clock() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#spent = 0;
    }
    if (this.#spent >= this.#budget) return false;
    this.#spent += 1;
    return true;
  }
}
