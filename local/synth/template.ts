/**
 * Reads a synthesized CloudFormation template into what `start:synth` serves: the API Gateway
 * resource tree with each method's Lambda function, the functions (asset, handler, timeout,
 * environment), the tables, secrets and queues to create locally, and the gateway responses.
 * Nothing here knows the app's routes or variables: everything comes from the template.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly Metadata?: Record<string, Json>;
}

export interface Template {
  readonly Resources: Readonly<Record<string, Resource>>;
}

/** One Lambda function of the template. */
export interface FunctionSpec {
  readonly logicalId: string;
  /** The directory of its bundled code (`asset.<hash>` next to the template). */
  readonly assetDir: string;
  /** `file.export`, as Lambda's `Handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly runtime: string;
  /** The environment as the template writes it (intrinsics unresolved). */
  readonly environment: Readonly<Record<string, Json>>;
}

/** One method of the API: which function serves it, and whether it streams. */
export interface MethodSpec {
  readonly functionId: string;
  readonly stream: boolean;
}

/** One API Gateway resource: its path and the methods on it (`ANY` included). */
export interface ResourceSpec {
  readonly path: string;
  readonly segments: readonly string[];
  readonly methods: Readonly<Record<string, MethodSpec>>;
}

/** A gateway response of the template. */
export interface GatewayResponseSpec {
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** An SQS event source mapping: the function that consumes a queue. */
export interface QueueConsumerSpec {
  readonly queueId: string;
  readonly functionId: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
}

/** The parts of a template `start:synth` serves. */
export interface ApiModel {
  readonly stage: string;
  readonly resources: readonly ResourceSpec[];
  readonly functions: Readonly<Record<string, FunctionSpec>>;
  readonly gatewayResponses: Readonly<Record<string, GatewayResponseSpec>>;
  readonly tables: ReadonlyArray<{ logicalId: string; properties: Readonly<Record<string, Json>> }>;
  readonly secrets: ReadonlyArray<{ logicalId: string; properties: Readonly<Record<string, Json>> }>;
  readonly queues: ReadonlyArray<{ logicalId: string; properties: Readonly<Record<string, Json>> }>;
  readonly queueConsumers: readonly QueueConsumerSpec[];
}

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A scalar property as text; `fallback` when it is absent or not a scalar. */
function text(value: Json | undefined, fallback = ''): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : fallback;
}

/** The logical id a `{Ref}` or `{Fn::GetAtt}` points at, or undefined. */
function referenced(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.Ref === 'string') return value.Ref;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every function logical id a method's integration URI names (`Fn::GetAtt [id, Arn]`). */
function integratedFunction(uri: Json | undefined, functions: ReadonlySet<string>): string | undefined {
  const text = JSON.stringify(uri ?? null);
  const ids = [...text.matchAll(/"Fn::GetAtt":\["([^"]+)","Arn"\]/g)].map((m) => m[1] as string);
  return ids.find((id) => functions.has(id));
}

/** Reads the template at `path` into the model `start:synth` serves; throws on what it cannot serve. */
export async function readApiModel(path: string): Promise<ApiModel> {
  const template = JSON.parse(await readFile(path, 'utf8')) as Template;
  const entries = Object.entries(template.Resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);

  const apis = ofType('AWS::ApiGateway::RestApi');
  if (apis.length !== 1) throw new Error(`expected one REST API in the template, found ${apis.length}`);
  const stages = ofType('AWS::ApiGateway::Stage');
  const stage = text(stages[0]?.[1].Properties?.StageName, 'prod');

  const functions: Record<string, FunctionSpec> = {};
  for (const [id, resource] of ofType('AWS::Lambda::Function')) {
    const props = resource.Properties ?? {};
    const code = props.Code;
    const key = isObject(code) && typeof code.S3Key === 'string' ? code.S3Key : undefined;
    const assetPath = resource.Metadata?.['aws:cdk:asset-path'];
    const assetDir =
      typeof assetPath === 'string' ? assetPath : key === undefined ? undefined : `asset.${key.replace(/\.zip$/, '')}`;
    // Inline code or a container image: not a bundle we can run (CDK's custom resources are these).
    if (assetDir === undefined || typeof props.Handler !== 'string') continue;
    const env = isObject(props.Environment) && isObject(props.Environment.Variables) ? props.Environment.Variables : {};
    functions[id] = {
      logicalId: id,
      assetDir: join(dirname(path), assetDir),
      handler: props.Handler,
      timeoutSeconds: typeof props.Timeout === 'number' ? props.Timeout : 3,
      memoryMb: typeof props.MemorySize === 'number' ? props.MemorySize : 128,
      runtime: text(props.Runtime),
      environment: env,
    };
  }
  const functionIds = new Set(Object.keys(functions));

  // The resource tree: each resource's parent is another resource or the API's root.
  const apiResources = new Map<string, { parent: string | undefined; part: string }>();
  for (const [id, resource] of ofType('AWS::ApiGateway::Resource')) {
    const parent = resource.Properties?.ParentId;
    const isRoot =
      isObject(parent) && Array.isArray(parent['Fn::GetAtt']) && parent['Fn::GetAtt'][1] === 'RootResourceId';
    apiResources.set(id, {
      parent: isRoot ? undefined : referenced(parent),
      part: text(resource.Properties?.PathPart),
    });
  }
  const segmentsOf = (id: string | undefined): string[] => {
    if (id === undefined) return [];
    const node = apiResources.get(id);
    if (!node) throw new Error(`API resource ${id} is not in the template`);
    return [...segmentsOf(node.parent), node.part];
  };
  const methodsByResource = new Map<string, Record<string, MethodSpec>>();
  for (const [id, resource] of ofType('AWS::ApiGateway::Method')) {
    const props = resource.Properties ?? {};
    const integration = isObject(props.Integration) ? props.Integration : {};
    if (integration.Type !== 'AWS_PROXY') throw new Error(`method ${id}: only Lambda proxy integrations are served`);
    const functionId = integratedFunction(integration.Uri, functionIds);
    if (functionId === undefined) throw new Error(`method ${id}: no function of the template in its integration`);
    const resourceRef = props.ResourceId;
    const isRoot =
      isObject(resourceRef) &&
      Array.isArray(resourceRef['Fn::GetAtt']) &&
      resourceRef['Fn::GetAtt'][1] === 'RootResourceId';
    const key = isRoot ? '' : (referenced(resourceRef) ?? '');
    const methods = methodsByResource.get(key) ?? {};
    methods[text(props.HttpMethod)] = { functionId, stream: integration.ResponseTransferMode === 'STREAM' };
    methodsByResource.set(key, methods);
  }
  const resources: ResourceSpec[] = [{ path: '/', segments: [], methods: methodsByResource.get('') ?? {} }];
  for (const id of apiResources.keys()) {
    const segments = segmentsOf(id);
    resources.push({ path: `/${segments.join('/')}`, segments, methods: methodsByResource.get(id) ?? {} });
  }

  const gatewayResponses: Record<string, GatewayResponseSpec> = {};
  for (const [, resource] of ofType('AWS::ApiGateway::GatewayResponse')) {
    const props = resource.Properties ?? {};
    const headers: Record<string, string> = {};
    const params = isObject(props.ResponseParameters) ? props.ResponseParameters : {};
    for (const [name, value] of Object.entries(params)) {
      const header = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
      // Static values are quoted ('value'); mapped values ($context…) are not served locally.
      if (header !== undefined && typeof value === 'string' && /^'.*'$/s.test(value))
        headers[header] = value.slice(1, -1);
    }
    const templates = isObject(props.ResponseTemplates) ? props.ResponseTemplates : {};
    const body = templates['application/json'];
    gatewayResponses[text(props.ResponseType)] = {
      ...(props.StatusCode === undefined ? {} : { statusCode: Number(props.StatusCode) }),
      headers,
      ...(typeof body === 'string' ? { body } : {}),
    };
  }

  const propsOf = (type: string) =>
    ofType(type).map(([logicalId, resource]) => ({ logicalId, properties: resource.Properties ?? {} }));
  const queueConsumers: QueueConsumerSpec[] = [];
  for (const [id, resource] of ofType('AWS::Lambda::EventSourceMapping')) {
    const props = resource.Properties ?? {};
    const queueId = referenced(props.EventSourceArn);
    const functionId = referenced(props.FunctionName);
    if (queueId === undefined || functionId === undefined || !functionIds.has(functionId)) {
      throw new Error(`event source mapping ${id}: not a queue of the template feeding one of its functions`);
    }
    const types = Array.isArray(props.FunctionResponseTypes) ? props.FunctionResponseTypes : [];
    queueConsumers.push({
      queueId,
      functionId,
      batchSize: typeof props.BatchSize === 'number' ? props.BatchSize : 10,
      reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
    });
  }
  return {
    stage,
    resources,
    functions,
    gatewayResponses,
    tables: propsOf('AWS::DynamoDB::Table'),
    secrets: propsOf('AWS::SecretsManager::Secret'),
    queues: propsOf('AWS::SQS::Queue'),
    queueConsumers,
  };
}

/** The result of matching a request path against the resource tree, as API Gateway does. */
export interface ResourceMatch {
  readonly resource: ResourceSpec;
  readonly pathParameters: Record<string, string> | null;
}

/**
 * Finds the resource for `path`: literal segments win over `{param}`, which wins over `{proxy+}`
 * (one or more segments). Undefined when nothing matches. Parameters are URL-decoded.
 */
export function matchResource(resources: readonly ResourceSpec[], path: string): ResourceMatch | undefined {
  const got = path.split('/').slice(1);
  if (path === '/') {
    const root = resources.find((r) => r.segments.length === 0);
    return root ? { resource: root, pathParameters: null } : undefined;
  }
  const score = (segments: readonly string[]): number[] | undefined => {
    const ranks: number[] = [];
    for (let i = 0; i < segments.length; i += 1) {
      const want = segments[i] as string;
      const part = got[i];
      if (want.endsWith('+}')) {
        if (i !== segments.length - 1 || got.length <= i) return undefined;
        ranks.push(2);
        return ranks;
      }
      if (part === undefined) return undefined;
      if (want.startsWith('{') && want.endsWith('}')) {
        if (part === '') return undefined;
        ranks.push(1);
      } else if (want === part) {
        ranks.push(0);
      } else {
        return undefined;
      }
    }
    return segments.length === got.length ? ranks : undefined;
  };
  let best: { resource: ResourceSpec; ranks: number[] } | undefined;
  for (const resource of resources) {
    if (resource.segments.length === 0) continue;
    const ranks = score(resource.segments);
    if (ranks === undefined) continue;
    if (!best || compareRanks(ranks, best.ranks) < 0) best = { resource, ranks };
  }
  if (!best) return undefined;
  const params: Record<string, string> = {};
  best.resource.segments.forEach((want, i) => {
    if (!want.startsWith('{')) return;
    const name = want.replace(/^\{|\+?\}$/g, '');
    const raw = want.endsWith('+}') ? got.slice(i).join('/') : (got[i] as string);
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      params[name] = raw;
    }
  });
  return { resource: best.resource, pathParameters: Object.keys(params).length > 0 ? params : null };
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return b.length - a.length;
}

/** The values `Ref`/`Fn::GetAtt` resolve to locally, by logical id. */
export interface LocalResources {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** `Ref` of each logical id. */
  readonly refs: ReadonlyMap<string, string>;
  /** `Fn::GetAtt` of each logical id, by attribute. */
  readonly attributes: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** Resolves the intrinsic functions an environment value may use; throws on anything else. */
export function resolveValue(value: Json, local: LocalResources, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!isObject(value)) throw new Error(`${where}: cannot resolve ${JSON.stringify(value)}`);
  const pseudo: Record<string, string> = {
    'AWS::Region': local.region,
    'AWS::AccountId': local.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': local.stackName,
  };
  if (typeof value.Ref === 'string') {
    const found = pseudo[value.Ref] ?? local.refs.get(value.Ref);
    if (found === undefined) throw new Error(`${where}: Ref ${value.Ref} has no local counterpart`);
    return found;
  }
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt)) {
    const [id, attribute] = getAtt.map(String) as [string, string];
    const found = local.attributes.get(id)?.[attribute];
    if (found === undefined) throw new Error(`${where}: Fn::GetAtt ${id}.${attribute} has no local counterpart`);
    return found;
  }
  const join = value['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map((part) => resolveValue(part, local, where)).join(join[0]);
  }
  const sub = value['Fn::Sub'];
  if (sub !== undefined) {
    const [pattern, vars]: [string, Json | undefined] =
      typeof sub === 'string' ? [sub, undefined] : [text((sub as Json[])[0]), (sub as Json[])[1]];
    return pattern.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (isObject(vars) && vars[name] !== undefined) return resolveValue(vars[name], local, where);
      const [id, attribute] = name.split('.');
      return resolveValue(
        attribute === undefined ? { Ref: id as string } : { 'Fn::GetAtt': [id as string, attribute] },
        local,
        where,
      );
    });
  }
  const select = value['Fn::Select'];
  if (Array.isArray(select)) {
    const list = select[1];
    const items =
      isObject(list) && Array.isArray(list['Fn::Split'])
        ? resolveValue(list['Fn::Split'][1] as Json, local, where).split(text(list['Fn::Split'][0]))
        : (list as Json[]).map((item) => resolveValue(item, local, where));
    const picked = items[Number(select[0])];
    if (picked === undefined) throw new Error(`${where}: Fn::Select out of range`);
    return picked;
  }
  throw new Error(`${where}: unsupported intrinsic ${Object.keys(value).join(', ')}`);
}
