// Failed attempts per key (a client address, an admin account, or everyone at once) within a
// window of time, in memory. Limits that protect codes and passwords count failures, not
// requests: a town hall or a mobile carrier puts many office holders behind one address on the
// morning of the invitation, and each of them opening a valid link must never count against the
// others. A guesser fails nearly every time, so guessing stays as expensive as before.

export interface FailedAttemptsOptions {
  /** Failures allowed per key within a window; the next attempt is refused until it ends. */
  max: number;
  windowMs: number;
  now: () => Date;
  /** At most this many keys are remembered (the oldest windows are forgotten first). */
  maxKeys?: number;
}

export class FailedAttempts {
  readonly #options: Required<FailedAttemptsOptions>;
  /** Per key: failures in the current window, and when it ends. */
  readonly #windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(options: FailedAttemptsOptions) {
    this.#options = { maxKeys: 100_000, ...options };
  }

  /** Seconds until `key` may try again, or 0 when it may now. */
  blockedFor(key: string): number {
    const window = this.#current(key);
    if (!window || window.failures < this.#options.max) return 0;
    return Math.ceil((window.endsAt - this.#options.now().getTime()) / 1000);
  }

  fail(key: string): void {
    const now = this.#options.now().getTime();
    let window = this.#current(key);
    if (!window) {
      if (this.#windows.size >= this.#options.maxKeys) this.#forgetOldest(now);
      window = { failures: 0, endsAt: now + this.#options.windowMs };
      this.#windows.set(key, window);
    }
    window.failures++;
  }

  #current(key: string): { failures: number; endsAt: number } | undefined {
    const window = this.#windows.get(key);
    if (window && window.endsAt <= this.#options.now().getTime()) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  /** Ended windows go; if none has ended, the oldest (a Map keeps insertion order). */
  #forgetOldest(now: number): void {
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key);
    if (this.#windows.size >= this.#options.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
  }
}
