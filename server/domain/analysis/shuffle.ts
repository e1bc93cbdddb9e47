import { randomInt } from 'node:crypto';

/**
 * Fisher-Yates with the CSPRNG, in place: exported rows in an order that says nothing about the
 * order of arrival, with no seed to recover.
 */
export function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
