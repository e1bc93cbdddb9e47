// A stop for a sending run: once given, the run ends after the mail in flight, and a pause
// between mails (a minute each at one mail a minute) ends at once instead of being waited out.
// The server gives it on close (SIGTERM), `survey send` on Ctrl-C.

export interface StopSignal {
  /** A pause that ends early when the stop comes, and does not begin after it. */
  sleep(ms: number): Promise<void>;
  stop(): void;
  readonly stopping: () => boolean;
}

export function stopSignal(): StopSignal {
  let stopped = false;
  const sleepers = new Set<() => void>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        const wake = () => {
          clearTimeout(pause);
          sleepers.delete(wake);
          resolve();
        };
        const pause = setTimeout(wake, ms);
        sleepers.add(wake);
      }),
    stop: () => {
      stopped = true;
      for (const wake of sleepers) wake();
    },
    stopping: () => stopped,
  };
}
