/**
 * The session rate-limit tier counts only requests that may use the session: a stranger who knows
 * a session id (anonymous, or with another user's token) cannot spend its owner's allowance.
 */
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import { build as buildMessages } from '../../../lambdas/handlers/get-session-messages.js';
import { mintWidgetToken } from '../../../lambdas/lib/tokens.js';
import { chatRequest, fakeRuntime, invoke, T0 } from '../../helpers/fake-runtime.js';

const SESSION_MAX = 20;
const STRANGER_REQUESTS = 25;

describe('session rate-limit tier', () => {
  const setup = async () => {
    const fake = fakeRuntime({
      env: {
        RATE_LIMIT_SESSION_MAX: String(SESSION_MAX),
        RATE_LIMIT_MAX_REQUESTS: '1000',
        RATE_LIMIT_USER_MAX: '1000',
      },
    });
    const mint = (userId: string) =>
      mintWidgetToken(fake.keys.signing, { userId, expiresInSeconds: 600 }, {}, T0).then((t) => t.token);
    const chat = buildChat(fake.runtime);
    const messages = buildMessages(fake.runtime);
    const owner = await mint('owner');
    const send = (token: string | undefined, sourceIp: string) =>
      invoke(chat, {
        ...chatRequest(
          fake.keys.widget,
          { sessionId: 'owned-session', message: 'hello' },
          token === undefined ? {} : { Authorization: `Bearer ${token}` },
        ),
        sourceIp,
      });
    const read = (token: string, sourceIp: string) =>
      invoke(messages, {
        method: 'GET',
        path: '/v1/sessions/owned-session/messages',
        headers: { 'X-Widget-Api-Key': fake.keys.widget, Authorization: `Bearer ${token}` },
        sourceIp,
      });
    return { mint, owner, send, read };
  };

  it.each<[string, 'anonymous' | 'other user', 'chat' | 'read']>([
    ['an anonymous stranger chatting', 'anonymous', 'chat'],
    ['another user chatting', 'other user', 'chat'],
    ['another user reading the history', 'other user', 'read'],
  ])("should leave the owner's next request at 200 after %s 25 times", async (_name, who, how) => {
    // Prepare
    const s = await setup();
    expect((await s.send(s.owner, '203.0.113.1')).statusCode).toBe(200);
    const stranger = who === 'anonymous' ? undefined : await s.mint('stranger');

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < STRANGER_REQUESTS; i += 1) {
      const ip = `198.51.100.${i + 1}`;
      const response = how === 'chat' ? await s.send(stranger, ip) : await s.read(stranger as string, ip);
      statuses.push(response.statusCode);
    }
    const owners = await s.send(s.owner, '203.0.113.1');

    // Assess
    expect(statuses.every((status) => status === 404 || status === 429)).toBe(true);
    expect(statuses.filter((status) => status === 404)).toHaveLength(SESSION_MAX);
    expect(owners.statusCode).toBe(200);
  });

  it('should still hold one session to its limit across addresses', async () => {
    // Prepare
    const s = await setup();

    // Act
    const statuses: number[] = [];
    for (let i = 0; i <= SESSION_MAX; i += 1) statuses.push((await s.send(s.owner, `192.0.2.${i + 1}`)).statusCode);

    // Assess
    expect(statuses.slice(0, SESSION_MAX).every((status) => status === 200)).toBe(true);
    expect(statuses[SESSION_MAX]).toBe(429);
  });
});
