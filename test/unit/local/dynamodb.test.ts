/**
 * Ready before ready (issue 16, item 5): `ensureTables` settles only once every table is `ACTIVE`
 * (a table still `CREATING` refuses reads and writes, which the first chats met as 503s), and
 * rejects while DynamoDB does not answer, so the server keeps `/health` at 503 and retries.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type TableStatus,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ensureTables } from '../../../local/dynamodb.js';
import { SECURITY_SCHEMA } from '../../../lambdas/lib/stores/table-schema.js';

const TABLE = 'chat-widget-security';
const notFound = () => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
const described = (status: TableStatus) => ({ Table: { TableName: TABLE, TableStatus: status } });

describe('ensureTables', () => {
  const setup = (describes: ReadonlyArray<TableStatus | 'missing'>, create: 'ok' | 'in use' = 'ok') => {
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const mock = mockClient(client);
    const seen: string[] = [];
    let call = 0;
    mock.on(DescribeTableCommand).callsFake(() => {
      const status = describes[Math.min(call, describes.length - 1)] as TableStatus | 'missing';
      call += 1;
      seen.push(status);
      if (status === 'missing') throw notFound();
      return described(status);
    });
    if (create === 'ok') mock.on(CreateTableCommand).resolves({});
    else mock.on(CreateTableCommand).rejects(new ResourceInUseException({ message: 'in use', $metadata: {} }));
    mock.on(UpdateTimeToLiveCommand).resolves({});
    return { client, mock, seen };
  };

  it.each<[string, ReadonlyArray<TableStatus | 'missing'>, 'ok' | 'in use', number]>([
    ['a new table (CREATING when first described)', ['missing', 'CREATING', 'ACTIVE'], 'ok', 1],
    ['a table another process is creating (ResourceInUse)', ['missing', 'CREATING', 'ACTIVE'], 'in use', 1],
    ['an existing ACTIVE table', ['ACTIVE', 'ACTIVE'], 'ok', 0],
    ['an existing table still CREATING', ['CREATING', 'CREATING', 'ACTIVE'], 'ok', 0],
  ])('should settle for %s only once DescribeTable says ACTIVE', async (_name, describes, create, creates) => {
    // Prepare
    const { client, mock, seen } = setup(describes, create);

    // Act
    await ensureTables(client, [{ name: TABLE, schema: SECURITY_SCHEMA }]);

    // Assess
    expect(seen).toEqual(describes);
    expect(mock.commandCalls(CreateTableCommand)).toHaveLength(creates);
  });

  it('should reject while DynamoDB does not answer, so the server keeps /health at 503 and retries', async () => {
    // Prepare
    const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    mockClient(client).on(DescribeTableCommand).rejects(new Error('connect ECONNREFUSED'));

    // Act
    const ensured = ensureTables(client, [{ name: TABLE, schema: SECURITY_SCHEMA }]);

    // Assess
    await expect(ensured).rejects.toThrow('ECONNREFUSED');
  });
});
