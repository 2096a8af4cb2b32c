/**
 * Structured JSON logging on Powertools Logger, with redaction as a formatter so that no
 * call site can forget it: credentials, tokens and message text never reach a log line.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/** Attribute names whose values are never logged, at any depth. */
const SENSITIVE_KEY =
  /authorization|api[-_]?key|token|secret|password|cookie|signature|^message$|^content$|^body$|^delta$|^text$/i;
/** Values that look like a JWT or a bearer credential are masked wherever they appear. */
const SENSITIVE_VALUE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*|bearer\s+\S+/gi;
const REDACTED = '[REDACTED]';
const MAX_DEPTH = 8;

/** Returns a copy of `value` with sensitive keys and credential-shaped strings masked. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SENSITIVE_VALUE, REDACTED);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[TRUNCATED]';
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(child, depth + 1);
  }
  return out;
}

/** Powertools' standard log shape, with every additional attribute passed through `redact`. */
class RedactingFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: redact(attributes.message),
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(redact(additional) as LogAttributes);
  }
}

/** Creates the service logger; the level comes from validated config. */
export function createLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent'): Logger {
  return new Logger({
    serviceName: 'chat-widget',
    logLevel: level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT',
    logFormatter: new RedactingFormatter(),
  });
}

export type { Logger };
