/**
 * The operator's emergency switch (design §12): while chat is paused every chat route answers
 * 503 `CHAT_PAUSED`. The switch is one item in the security table; each instance reads it at most
 * once per `maxAgeMs` (4 s), so a pause reaches every instance within 5 s and costs a warm
 * instance one read per 4 s, not one per request. The adapter is `stores/chat-pause-store.ts`;
 * the error chat routes answer with is `ChatPausedError` (errors.ts).
 */

/** A pause, as stored. */
export interface PauseState {
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly since: number;
  /** The actor who paused (`admin`, `key:<id>`). */
  readonly by: string;
}

/** Storage of the switch; every call is one strongly consistent DynamoDB request. */
export interface PauseStore {
  get(): Promise<PauseState | undefined>;
  put(state: PauseState): Promise<void>;
  delete(): Promise<void>;
}

export interface ChatPauseOptions {
  readonly store: PauseStore;
  readonly clock: () => number;
  /** How long an instance trusts what it read. @default 4000 ms (a pause is seen everywhere within 5 s) */
  readonly maxAgeMs?: number;
}

/** The switch as one instance sees it. */
export class ChatPause {
  readonly #store: PauseStore;
  readonly #clock: () => number;
  readonly #maxAgeMs: number;
  #cached: { paused: Promise<boolean>; readAt: number } | undefined;

  constructor(options: ChatPauseOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#maxAgeMs = options.maxAgeMs ?? 4000;
  }

  /** Whether chat is paused; concurrent callers share one read; a failed read throws (fail closed). */
  isPaused(): Promise<boolean> {
    const now = this.#clock();
    if (this.#cached && now - this.#cached.readAt < this.#maxAgeMs) return this.#cached.paused;
    const paused = this.#store.get().then((state) => state !== undefined);
    const entry = { paused, readAt: now };
    this.#cached = entry;
    paused.catch(() => {
      if (this.#cached === entry) this.#cached = undefined;
    });
    return paused;
  }

  /** Pauses chat everywhere (this instance at once). */
  async pause(reason: string, by: string): Promise<void> {
    await this.#store.put({ reason, since: this.#clock(), by });
    this.#cached = { paused: Promise.resolve(true), readAt: this.#clock() };
  }

  /** Resumes chat everywhere (this instance at once). */
  async resume(): Promise<void> {
    await this.#store.delete();
    this.#cached = { paused: Promise.resolve(false), readAt: this.#clock() };
  }
}
