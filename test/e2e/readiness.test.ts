/**
 * Ready before ready: a script that waits for the server (its port, or `/health` answering 200)
 * and then chats never meets a table that does not exist yet. The embedded engine: the server
 * listens only once its tables are `ACTIVE`. An external endpoint whose tables take a while to
 * create (dynalite with a slow `CreateTable`): `/health` answers 503 until they are `ACTIVE`.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { closedPort, http, postJson } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** How long the slow engine takes to create each table. */
const CREATE_TABLE_MS = 1500;
const READY_WITHIN_MS = 30_000;

describe('ready before ready', () => {
  let server: RunningServer | undefined;
  let dynalite: Server | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    await new Promise<void>((resolve) => (dynalite?.listening ? dynalite.close(() => resolve()) : resolve()));
    dynalite = undefined;
  });

  it('should have its tables ready before it listens, with the embedded engine', async () => {
    // Act
    server = await startServer();

    // Assess
    const output = server.output();
    expect(output.indexOf('"tables ready"')).toBeGreaterThanOrEqual(0);
    expect(output.indexOf('"tables ready"')).toBeLessThan(output.indexOf('listening on'));
  });

  it(
    'should answer /health with 503 until slow tables are ACTIVE, then serve chat with no 503',
    async () => {
      // Prepare: an engine whose tables stay CREATING for a while
      const port = await closedPort();
      const start = createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server;
      dynalite = start({ createTableMs: CREATE_TABLE_MS, deleteTableMs: 0, updateTableMs: 0 });
      await new Promise<void>((resolve) => dynalite!.listen(port, '127.0.0.1', resolve));
      server = await startServer({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` });
      const url = server.url;

      // Act: the script a user writes: wait for /health, then chat
      const healthStatuses: number[] = [];
      const deadline = Date.now() + READY_WITHIN_MS;
      while (Date.now() < deadline) {
        const status = (await http(`${url}/health`)).status;
        healthStatuses.push(status);
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const chats = await Promise.all(
        [1, 2, 3].map((n) =>
          postJson(
            `${url}/v1/chat`,
            { sessionId: `ready-${n}`, message: 'hello' },
            { 'X-Widget-Api-Key': server!.secrets.widgetKey },
          ),
        ),
      );

      // Assess
      expect(healthStatuses.at(-1)).toBe(200);
      expect(healthStatuses.every((status) => status === 503 || status === 200)).toBe(true);
      expect(chats.map((res) => res.status)).toEqual([200, 200, 200]);
    },
    READY_WITHIN_MS + 30_000,
  );
});
