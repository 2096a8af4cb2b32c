/**
 * Secrets given through the environment (`WIDGET_API_KEY`, … each with `*_PREVIOUS`), laid
 * over an optional base source. Environment values have no creation time of their own, so the
 * time this source was created stands in for it: a `*_PREVIOUS` value is accepted for
 * `SECRET_GRACE_SECONDS` after the process started.
 */
import type { Config } from '../config.js';
import { ServiceUnavailableError } from '../errors.js';
import {
  SECRET_ENV,
  SECRET_NAMES,
  type SecretEntry,
  type SecretName,
  type SecretSnapshot,
  type SecretSource,
} from '../secrets.js';

/** A `SecretSource` that reads overrides from validated config and falls back to `base`. */
export class EnvOverrideSource implements SecretSource {
  readonly #overrides: Config['secretOverrides'];
  readonly #base: SecretSource | undefined;
  readonly #createdAt: number;

  constructor(overrides: Config['secretOverrides'], base?: SecretSource, clock: () => number = Date.now) {
    this.#overrides = overrides;
    this.#base = base;
    this.#createdAt = clock();
  }

  /** Loads the base snapshot (when there is one) and replaces every secret set in the environment. */
  async load(): Promise<SecretSnapshot> {
    const base = this.#base ? await this.#base.load() : undefined;
    const entries = {} as Record<SecretName, SecretEntry>;
    const missing: string[] = [];
    for (const name of SECRET_NAMES) {
      const variable = SECRET_ENV[name];
      const { current, previous } = this.#overrides[variable];
      if (current !== undefined) {
        entries[name] = {
          current: { versionId: `env:${variable}`, value: current, createdAt: this.#createdAt },
          ...(previous === undefined
            ? {}
            : { previous: { versionId: `env:${variable}_PREVIOUS`, value: previous, createdAt: this.#createdAt } }),
        };
      } else if (base) {
        entries[name] = base[name];
      } else {
        missing.push(variable);
      }
    }
    if (missing.length > 0) {
      throw new ServiceUnavailableError({ cause: new Error(`No value for ${missing.join(', ')}`) });
    }
    return entries;
  }
}
