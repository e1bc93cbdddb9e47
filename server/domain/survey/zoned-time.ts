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

/** How far the clocks in `timeZone` are ahead of UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const shown = toWallTime(new Date(instant), timeZone);
  return Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute) - Math.floor(instant / 60_000) * 60_000;
}

/**
 * The instant at which the clocks in `timeZone` show `wall`: the later one in a DST overlap
 * (02:30 on the last Sunday of October happens twice), and for a time the clocks skip (02:30 on
 * the last Sunday of March) the instant as far after the change as that time was after 02:00
 * (03:30), so that a later wall time never maps to an earlier instant.
 */
export function fromWallTime(wall: WallTime, timeZone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // The offsets a day before and a day after: at most one change lies between them.
  const before = asUtc - offsetAt(asUtc - 86_400_000, timeZone);
  const after = asUtc - offsetAt(asUtc + 86_400_000, timeZone);
  const showing = [before, after].filter((instant) => offsetAt(instant, timeZone) === asUtc - instant);
  // None shows it if the clocks skip it: read it with the offset from before the change.
  return new Date(showing.length > 0 ? Math.max(...showing) : before);
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
