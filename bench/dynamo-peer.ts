/**
 * The like-for-like peer for `POST /v1/chat` on DynamoDB: what a user would build for the same
 * guarantees from standard libraries, written the usual way (one await after the other). Express,
 * helmet, cors with an allow-list, a JSON body limit, the widget key compared by SHA-256 digest in
 * constant time, an HS256 widget token (jsonwebtoken), a strongly consistent revocation read
 * (GetItem), `rate-limiter-flexible`'s DynamoDB limiter for the IP, session and user tiers, zod
 * validation with our schema, the session ownership claim (conditional UpdateItem), the context
 * read (Query), the user's message (PutItem), the echo answer, and the answer (PutItem).
 *
 * Run as a process of its own (`tsx bench/dynamo-peer.ts`, env below), so its CPU is measured as
 * ours is: PEER_ENDPOINT, PEER_WIDGET_KEY, PEER_SIGNING_SECRET, PEER_ORIGIN. Prints `listening on <url>`.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { CreateTableCommand, DynamoDB, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import cors from 'cors';
import express, { type ErrorRequestHandler } from 'express';
import helmet from 'helmet';
import jwt from 'jsonwebtoken';
import { RateLimiterDynamo, RateLimiterRes } from 'rate-limiter-flexible';
import { chatRequestSchema } from '../lambdas/lib/schemas.js';

const SECURITY_TABLE = 'peer-security';
const CONVERSATIONS_TABLE = 'peer-conversations';
const LIMITS_TABLE = 'peer-rate-limits';
/** The context a turn reads: the last messages of the session. */
const CONTEXT_MESSAGES = 20;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Options of the peer; the limits are kept out of the way, as the bench does for ours. */
export interface DynamoPeerOptions {
  readonly endpoint: string;
  readonly widgetKey: string;
  readonly signingSecret: string;
  readonly origin: string;
}

async function createTables(db: DynamoDB): Promise<void> {
  const tables = [
    { name: SECURITY_TABLE, keys: ['pk'] },
    { name: CONVERSATIONS_TABLE, keys: ['pk', 'sk'] },
  ];
  for (const { name, keys } of tables) {
    try {
      await db.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
          KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

/** Builds the peer app over DynamoDB at `endpoint`, its tables created. */
export async function dynamoPeer(options: DynamoPeerOptions): Promise<express.Express> {
  const db = new DynamoDB({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } });
  await createTables(db);
  const limiter = (keyPrefix: string) =>
    new Promise<RateLimiterDynamo>((resolve, reject) => {
      const made: RateLimiterDynamo = new RateLimiterDynamo(
        { storeClient: db, tableName: LIMITS_TABLE, keyPrefix, points: 1_000_000, duration: 60 },
        (error?: unknown) =>
          error ? reject(error instanceof Error ? error : new Error('limiter table')) : resolve(made),
      );
    });
  // One table for the three tiers; created by the first, found by the others.
  const ipLimiter = await limiter('ip');
  const [sessionLimiter, userLimiter] = await Promise.all([limiter('session'), limiter('user')]);

  const keyDigest = digest(options.widgetKey);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(helmet());
  app.use(cors({ origin: [options.origin], methods: ['POST'], maxAge: 600 }));
  app.use(express.json({ limit: 32 * 1024 }));

  app.post('/v1/chat', async (req, res, next) => {
    try {
      const key = req.get('x-widget-api-key');
      if (key === undefined || !timingSafeEqual(digest(key), keyDigest)) throw new HttpFailure(401, 'UNAUTHORIZED');
      const token = BEARER.exec(req.get('authorization') ?? '')?.[1];
      if (token === undefined) throw new HttpFailure(401, 'UNAUTHORIZED');
      let userId: string;
      try {
        const claims = jwt.verify(token, options.signingSecret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
        userId = String(claims.userId ?? claims.sub);
      } catch {
        throw new HttpFailure(401, 'UNAUTHORIZED');
      }
      const revoked = await doc.send(
        new GetCommand({
          TableName: SECURITY_TABLE,
          Key: { pk: `revoked#${digest(token).toString('base64url')}` },
          ConsistentRead: true,
        }),
      );
      if (revoked.Item) throw new HttpFailure(401, 'UNAUTHORIZED');
      const body = chatRequestSchema.safeParse(req.body);
      if (!body.success) throw new HttpFailure(400, 'VALIDATION_ERROR');
      const { sessionId, message } = body.data;
      try {
        await ipLimiter.consume(req.ip ?? 'unknown');
        await sessionLimiter.consume(sessionId);
        await userLimiter.consume(userId);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw new HttpFailure(429, 'RATE_LIMITED');
        throw error;
      }
      try {
        await doc.send(
          new UpdateCommand({
            TableName: CONVERSATIONS_TABLE,
            Key: { pk: `session#${sessionId}`, sk: 'meta' },
            UpdateExpression: 'SET ownerId = if_not_exists(ownerId, :user), lastActiveAt = :now',
            ConditionExpression: 'attribute_not_exists(ownerId) OR ownerId = :user',
            ExpressionAttributeValues: { ':user': userId, ':now': Date.now() },
          }),
        );
      } catch (error) {
        if (error instanceof Error && error.name === 'ConditionalCheckFailedException') {
          throw new HttpFailure(404, 'NOT_FOUND');
        }
        throw error;
      }
      const context = await doc.send(
        new QueryCommand({
          TableName: CONVERSATIONS_TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :msg)',
          ExpressionAttributeValues: { ':pk': `session#${sessionId}`, ':msg': 'msg#' },
          ScanIndexForward: false,
          Limit: CONTEXT_MESSAGES,
          ConsistentRead: true,
        }),
      );
      const now = Date.now();
      await doc.send(
        new PutCommand({
          TableName: CONVERSATIONS_TABLE,
          Item: { pk: `session#${sessionId}`, sk: `msg#${now}#user#${randomUUID()}`, role: 'user', content: message },
        }),
      );
      const answer = { role: 'assistant', content: `Echo: ${message}`, createdAt: new Date().toISOString() };
      await doc.send(
        new PutCommand({
          TableName: CONVERSATIONS_TABLE,
          Item: { pk: `session#${sessionId}`, sk: `msg#${now + 1}#assistant#${randomUUID()}`, ...answer },
        }),
      );
      res.json({ sessionId, message: answer, context: context.Count ?? 0 });
    } catch (error) {
      next(error);
    }
  });

  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const failure = error instanceof HttpFailure ? error : new HttpFailure(503, 'SERVICE_UNAVAILABLE');
    res.status(failure.status).json({ error: { code: failure.code } });
  };
  app.use(onError);
  return app;
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const env = (name: string) => {
    const value = process.env[name];
    if (value === undefined) throw new Error(`${name} is required`);
    return value;
  };
  const app = await dynamoPeer({
    endpoint: env('PEER_ENDPOINT'),
    widgetKey: env('PEER_WIDGET_KEY'),
    signingSecret: env('PEER_SIGNING_SECRET'),
    origin: env('PEER_ORIGIN'),
  });
  const server = createServer(app).listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address !== null && typeof address === 'object')
      process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}
