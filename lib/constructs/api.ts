/**
 * The REST API, built from the route table the local server also dispatches from
 * (`lambdas/http/routes.ts`), so the two cannot drift. Every resource sends other methods
 * (including CORS preflight) to the fallback function, as does `/{proxy+}` for unknown paths,
 * so 404, 405 and preflight run the same security chain. Gateway responses that API Gateway
 * produces itself carry the security headers and the contract's JSON error body.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  ResponseTransferMode,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  type IResource,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { errorBody, securityHeaderTable, serverErrorMessage } from '../../lambdas/http/contract.js';
import { ROUTES, type HandlerName } from '../../lambdas/http/routes.js';
import type { ErrorCode } from '../../lambdas/lib/errors.js';

/** Props of `Api`. */
export interface ApiProps {
  /** The function behind each handler name of the route table. */
  readonly functions: Readonly<Record<HandlerName, IFunction>>;
  /** Steady-state requests per second for the whole stage. */
  readonly throttleRateLimit: number;
  /** Burst for the whole stage. */
  readonly throttleBurstLimit: number;
  /** Send `Strict-Transport-Security` on gateway responses. */
  readonly hsts: boolean;
  /**
   * Delete the access log group with the stack.
   * @default false
   */
  readonly destroyLogs?: boolean;
}

const q = (value: string) => `'${value}'`;

/** Headers of the responses API Gateway writes itself (the Lambda chain writes its own): the contract's table, quoted. */
function gatewayHeaders(hsts: boolean): Record<string, string> {
  const headers = { ...securityHeaderTable(hsts), Vary: 'Origin' };
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, q(value)]));
}

/** The API Gateway REST API. */
export class Api extends Construct {
  readonly api: RestApi;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: props.destroyLogs ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.api = new RestApi(this, 'RestApi', {
      description: 'Chat widget backend',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        // No headers at all: Authorization and the key headers never reach the access log.
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            resource: '$context.resourcePath',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationStatus: '$context.integration.status',
            wafStatus: '$context.waf.status',
            time: '$context.requestTime',
          }),
        ),
      },
    });

    const integrations = new Map<HandlerName, LambdaIntegration>();
    const integration = (name: HandlerName, stream = false) => {
      let found = integrations.get(name);
      if (!found) {
        found = new LambdaIntegration(props.functions[name], {
          ...(stream ? { responseTransferMode: ResponseTransferMode.STREAM } : {}),
        });
        integrations.set(name, found);
      }
      return found;
    };
    const fallback = integration('route-fallback');
    const withFallback = new Set<IResource>();
    for (const route of ROUTES) {
      const resource = this.api.root.resourceForPath(route.path);
      resource.addMethod(route.method, integration(route.handler, route.stream));
      if (!withFallback.has(resource)) {
        resource.addMethod('ANY', fallback);
        withFallback.add(resource);
      }
    }
    // The root too: without it `addProxy` gives `/` a MOCK integration with no response (a 500).
    this.api.root.addMethod('ANY', fallback);
    this.api.root.addProxy({ defaultIntegration: fallback, anyMethod: true });

    const headers = gatewayHeaders(props.hsts);
    const responses: [ResponseType, ErrorCode, string, string?][] = [
      [ResponseType.DEFAULT_4XX, 'BAD_REQUEST', 'The request was refused.'],
      [ResponseType.DEFAULT_5XX, 'SERVICE_UNAVAILABLE', serverErrorMessage(503)],
      [ResponseType.THROTTLED, 'RATE_LIMIT_EXCEEDED', 'Too many requests. Retry later.', '429'],
      [ResponseType.WAF_FILTERED, 'FORBIDDEN', 'The request was blocked.', '403'],
      [ResponseType.MISSING_AUTHENTICATION_TOKEN, 'NOT_FOUND', 'No such route.', '404'],
      [ResponseType.REQUEST_TOO_LARGE, 'PAYLOAD_TOO_LARGE', 'The request body is too large.', '413'],
    ];
    for (const [type, code, message, statusCode] of responses) {
      this.api.addGatewayResponse(`Response${code}${statusCode ?? ''}`, {
        type,
        ...(statusCode === undefined ? {} : { statusCode }),
        responseHeaders: { ...headers, ...(code === 'RATE_LIMIT_EXCEEDED' ? { 'Retry-After': q('1') } : {}) },
        templates: { 'application/json': JSON.stringify(errorBody(code, message)) },
      });
    }
  }
}
