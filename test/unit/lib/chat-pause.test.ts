import { ChatPause } from '../../../lambdas/lib/chat-pause.js';
import { FakeClock } from '../../helpers/fake-runtime.js';
import { InMemoryPauseStore } from '../../helpers/fake-budget-store.js';

function setup() {
  const clock = new FakeClock();
  const store = new InMemoryPauseStore();
  const here = new ChatPause({ store, clock: clock.now });
  const elsewhere = new ChatPause({ store, clock: clock.now });
  return { clock, store, here, elsewhere };
}

describe('ChatPause', () => {
  it('should pause the instance that was told at once', async () => {
    const { here } = setup();
    await here.pause('incident', 'admin');
    expect(await here.isPaused()).toBe(true);
  });

  it.each([
    [0, false],
    [3999, false],
    [4000, true],
    [5000, true],
  ])('should show another instance the pause %i ms later: %s', async (ms, seen) => {
    // Prepare
    const { clock, here, elsewhere } = setup();
    expect(await elsewhere.isPaused()).toBe(false);

    // Act
    await here.pause('incident', 'admin');
    clock.advance(ms);

    // Assess
    expect(await elsewhere.isPaused()).toBe(seen);
  });

  it('should read the switch at most once per 4 s, however many requests ask', async () => {
    const { clock, store, elsewhere } = setup();
    await Promise.all(Array.from({ length: 50 }, () => elsewhere.isPaused()));
    clock.advance(3000);
    await elsewhere.isPaused();
    expect(store.reads).toBe(1);
  });

  it('should resume everywhere within 5 s', async () => {
    const { clock, here, elsewhere } = setup();
    await here.pause('incident', 'admin');
    expect(await elsewhere.isPaused()).toBe(true);
    await here.resume();
    clock.advance(4000);
    expect(await here.isPaused()).toBe(false);
    expect(await elsewhere.isPaused()).toBe(false);
  });

  it('should fail when the switch cannot be read, and read again on the next request', async () => {
    const { store, elsewhere } = setup();
    store.down = true;
    await expect(elsewhere.isPaused()).rejects.toThrow();
    store.down = false;
    expect(await elsewhere.isPaused()).toBe(false);
  });
});
