/** One canonical spelling of a client address (audit, logs, rate-limit keys), whatever the socket or proxy wrote. */
import { build as buildChat } from '../../../lambdas/handlers/post-chat.js';
import { canonicalIp } from '../../../lambdas/lib/client-address.js';
import { chatRequest, fakeRuntime, invoke } from '../../helpers/fake-runtime.js';

describe('canonicalIp', () => {
  it.each([
    ['203.0.113.5', '203.0.113.5'],
    ['::ffff:203.0.113.5', '203.0.113.5'],
    ['::FFFF:203.0.113.5', '203.0.113.5'],
    ['::ffff:cb00:7105', '203.0.113.5'],
    ['0:0:0:0:0:ffff:cb00:7105', '203.0.113.5'],
    ['0000:0000:0000:0000:0000:FFFF:CB00:7105', '203.0.113.5'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['::1', '::1'],
    ['FE80::1%eth0', 'fe80::1%eth0'],
    ['unknown', 'unknown'],
  ])('should spell %s as %s', (address, canonical) => {
    // Act
    const spelled = canonicalIp(address);

    // Assess
    expect(spelled).toBe(canonical);
  });

  it.each(['::ffff:203.0.113.5', '0:0:0:0:0:ffff:cb00:7105'])(
    'should record a request from %s as 203.0.113.5 in the audit trail and the rate-limit key',
    async (sourceIp) => {
      // Prepare
      const fake = fakeRuntime();
      const chat = buildChat(fake.runtime);

      // Act
      await invoke(chat, { ...chatRequest('wrong-key'), sourceIp });

      // Assess
      expect(fake.auditStore.ofType('auth.failure').map((event) => event.ip)).toEqual(['203.0.113.5']);
      expect([...fake.rateLimits.counts.keys()]).toEqual([expect.stringContaining('#203.0.113.5#')]);
    },
  );
});
