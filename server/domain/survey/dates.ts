// Fieldwork runs in Europe/Amsterdam: the ledger records dates in that zone, never a time of day.

const dateFormat = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam', year: 'numeric', month: '2-digit', day: '2-digit' });

let lastDate = { minute: NaN, date: '' };

/** YYYY-MM-DD in Europe/Amsterdam. */
export function amsterdamDate(at: Date): string {
  // Formatting is costly and every save asks; Amsterdam's offset is whole hours, so the date
  // only changes on a minute boundary and the last minute's answer can be reused.
  const minute = Math.floor(at.getTime() / 60_000);
  if (minute !== lastDate.minute) lastDate = { minute, date: dateFormat.format(at) };
  return lastDate.date;
}
