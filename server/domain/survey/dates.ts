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

const closeDates = new Map<string, string>();

/**
 * "dinsdag 9 juli 2024": the last day on which the questionnaire can be filled in (with the time
 * when it closes during the day). In English ("Tuesday 9 July 2024") for the English pages.
 */
export function closeDateText(closesAt: Date, timeZone: string, lang: 'nl' | 'en' = 'nl'): string {
  const key = `${closesAt.toISOString()} ${timeZone} ${lang}`;
  const known = closeDates.get(key);
  if (known) return known;
  const local = (d: Date, o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'nl-NL', { timeZone, ...o }).format(d);
  const midnight = local(closesAt, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) === '00:00';
  const lastDay = midnight ? new Date(closesAt.getTime() - 1) : closesAt;
  const date = local(lastDay, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const text = midnight ? date : `${date} ${lang === 'en' ? 'at' : 'om'} ${local(closesAt, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })}`;
  closeDates.set(key, text);
  return text;
}
