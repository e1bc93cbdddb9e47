// Wall-clock time in a named time zone (Europe/Amsterdam), converted to and from instants with
// the platform's Intl data, so that daylight saving time is handled without a library.

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function toWallTime(instant: Date, timeZone: string): WallTime & { weekday: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(instant).map((p) => [p.type, p.value]));
  const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: weekdays.indexOf(parts.weekday!),
  };
}

/** The instant at which the clocks in `timeZone` show `wall` (the later one in a DST overlap). */
export function fromWallTime(wall: WallTime, timeZone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  let guess = asUtc;
  for (let i = 0; i < 3; i++) {
    const shown = toWallTime(new Date(guess), timeZone);
    const shownAsUtc = Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute);
    const diff = asUtc - shownAsUtc;
    if (diff === 0) break;
    guess += diff;
  }
  return new Date(guess);
}

/** Adds calendar days to a date, keeping the wall-clock time (P8D is "the same time, 8 days later"). */
export function addDays(wall: WallTime, days: number): WallTime {
  const d = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + days));
  return { ...wall, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function dateKey(wall: Pick<WallTime, 'year' | 'month' | 'day'>): string {
  return `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

export function weekdayOf(wall: Pick<WallTime, 'year' | 'month' | 'day'>): number {
  return new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay();
}

/** Parses 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:mm' as wall time; a date alone has no time (undefined). */
export function parseLocal(text: string): { wall: WallTime; hasTime: boolean } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const wall = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0) };
  const check = new Date(Date.UTC(wall.year, wall.month - 1, wall.day));
  if (check.getUTCMonth() !== wall.month - 1 || wall.hour > 23 || wall.minute > 59) return undefined;
  return { wall, hasTime: m[4] !== undefined };
}

/** ISO 8601 durations in days and time: P10D, P1W, P1DT12H, PT36H. */
export function parseDuration(text: string): { days: number; minutes: number } | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  return { days: Number(m[1] ?? 0) * 7 + Number(m[2] ?? 0), minutes: Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0) };
}
