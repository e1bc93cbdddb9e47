// Fieldwork runs in Europe/Amsterdam: the ledger records dates in that zone, never a time of day.

const dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });

/** YYYY-MM-DD in Europe/Amsterdam. */
export function amsterdamDate(at: Date): string {
  return dateFormat.format(at);
}
