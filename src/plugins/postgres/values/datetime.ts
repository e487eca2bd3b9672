/**
 * Dates and times between the WIT records and PostgreSQL's text forms. Output is read in the ISO
 * DateStyle, which the plugin sets on every connection (`-c datestyle=ISO`): anything else is
 * refused rather than guessed at. Years are astronomical in the WIT (1 BC is year 0, as in
 * chrono) and written with `BC` for PostgreSQL.
 */
import type { PgDate, PgTime, PgTimestamp, PgTimestampTz } from '../types.ts';

/** A value that does not fit the type it claims (bad month, hour 25, ...). */
export class DateTimeRangeError extends RangeError {}

/** PostgreSQL's date range: 4713 BC to 5874897 AD. */
const MIN_YEAR = -4712;
const MAX_YEAR = 5874897;
/** PostgreSQL refuses time zone offsets of 16 hours or more. */
const MAX_OFFSET_SECS = 16 * 3600;
const MICROS_PER_DAY = 86_400_000_000;

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DateTimeRangeError(`${what} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
  return value;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

// --- to PostgreSQL --------------------------------------------------------------------------

interface Ymd {
  y: number;
  m: number;
  d: number;
}

function checkYmd(date: PgDate): Ymd {
  if (date?.tag !== 'ymd' || !Array.isArray(date.val)) throw new DateTimeRangeError('a date must be positive-infinity, negative-infinity or ymd');
  const [year, month, day] = date.val;
  const y = checkInteger(year, 'year', MIN_YEAR, MAX_YEAR);
  const m = checkInteger(month, 'month', 1, 12);
  const d = checkInteger(day, 'day', 1, daysInMonth(y, m));
  return { y, m, d };
}

/** `YYYY-MM-DD` with the era apart, so that a caller can put ` BC` at the end. */
function ymdText({ y, m, d }: Ymd): { text: string; bc: boolean } {
  const bc = y <= 0;
  return { text: `${pad(bc ? 1 - y : y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, bc };
}

function infinity(date: PgDate): string | undefined {
  if (date?.tag === 'positive-infinity') return 'infinity';
  if (date?.tag === 'negative-infinity') return '-infinity';
  return undefined;
}

export function dateParam(date: PgDate): string {
  const inf = infinity(date);
  if (inf) return inf;
  const { text, bc } = ymdText(checkYmd(date));
  return bc ? `${text} BC` : text;
}

export function timeParam(time: PgTime): string {
  if (typeof time !== 'object' || time === null) throw new DateTimeRangeError('a time must be a record');
  const hour = checkInteger(time.hour, 'hour', 0, 24);
  const min = checkInteger(time.min, 'min', 0, 59);
  const sec = checkInteger(time.sec, 'sec', 0, 59);
  const micro = checkInteger(time.micro, 'micro', 0, 999_999);
  if (hour === 24 && (min !== 0 || sec !== 0 || micro !== 0)) throw new DateTimeRangeError('hour 24 is allowed only as 24:00:00');
  return `${pad(hour, 2)}:${pad(min, 2)}:${pad(sec, 2)}.${pad(micro, 6)}`;
}

export function timestampParam(ts: PgTimestamp, zone = ''): string {
  if (typeof ts !== 'object' || ts === null) throw new DateTimeRangeError('a timestamp must be a record');
  const inf = infinity(ts.date);
  if (inf) return inf;
  const { text, bc } = ymdText(checkYmd(ts.date));
  return `${text} ${timeParam(ts.time)}${zone}${bc ? ' BC' : ''}`;
}

/** The offset east of UTC in seconds (western-hemisphere-secs(4 * 3600) is UTC-4). */
export function offsetSeconds(tz: PgTimestampTz): number {
  const offset = tz?.offset;
  if (offset?.tag !== 'eastern-hemisphere-secs' && offset?.tag !== 'western-hemisphere-secs') {
    throw new DateTimeRangeError('an offset must be eastern-hemisphere-secs or western-hemisphere-secs');
  }
  const secs = checkInteger(offset.val, 'offset seconds', -(MAX_OFFSET_SECS - 1), MAX_OFFSET_SECS - 1);
  return offset.tag === 'eastern-hemisphere-secs' ? secs : -secs;
}

/** The local time `timestamp` at `offset`, as PostgreSQL reads it (`... 10:00:00.000000-04:00:00`). */
export function timestampTzParam(tz: PgTimestampTz): string {
  const east = offsetSeconds(tz);
  const abs = Math.abs(east);
  const zone = `${east < 0 ? '-' : '+'}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}:${pad(abs % 60, 2)}`;
  return timestampParam(tz?.timestamp, zone);
}

// --- from PostgreSQL ------------------------------------------------------------------------

/** Text PostgreSQL wrote in a DateStyle other than ISO, or something that is not a date at all. */
export class DateTimeFormatError extends Error {}

const DATE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;
const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-]\d{2}(?::\d{2}){0,2})?( BC)?$/;

function formatError(type: string, text: string): DateTimeFormatError {
  return new DateTimeFormatError(`cannot read ${type} ${JSON.stringify(text)}: the connection's DateStyle is not ISO`);
}

const year = (digits: string, bc: string | undefined) => (bc ? 1 - Number(digits) : Number(digits));
const micros = (fraction: string | undefined) => (fraction ? Number(fraction.padEnd(6, '0')) : 0);

export function dateResult(text: string): PgDate {
  if (text === 'infinity') return { tag: 'positive-infinity' };
  if (text === '-infinity') return { tag: 'negative-infinity' };
  const m = DATE.exec(text);
  if (!m) throw formatError('date', text);
  return { tag: 'ymd', val: [year(m[1], m[4]), Number(m[2]), Number(m[3])] };
}

export function timeResult(text: string): PgTime {
  const m = TIME.exec(text);
  if (!m) throw formatError('time', text);
  return { hour: Number(m[1]), min: Number(m[2]), sec: Number(m[3]), micro: micros(m[4]) };
}

const MIDNIGHT: PgTime = { hour: 0, min: 0, sec: 0, micro: 0 };

export function timestampResult(text: string): PgTimestamp {
  if (text === 'infinity') return { date: { tag: 'positive-infinity' }, time: { ...MIDNIGHT } };
  if (text === '-infinity') return { date: { tag: 'negative-infinity' }, time: { ...MIDNIGHT } };
  const m = TIMESTAMP.exec(text);
  if (!m || m[8] !== undefined) throw formatError('timestamp', text);
  return {
    date: { tag: 'ymd', val: [year(m[1], m[9]), Number(m[2]), Number(m[3])] },
    time: { hour: Number(m[4]), min: Number(m[5]), sec: Number(m[6]), micro: micros(m[7]) },
  };
}

/**
 * A timestamptz as PostgreSQL printed it in the session's time zone, turned into UTC with
 * offset western-hemisphere-secs(0), as the reference returns every timestamptz.
 */
export function timestampTzResult(text: string): PgTimestampTz {
  const utc = { tag: 'western-hemisphere-secs', val: 0 } as const;
  if (text === 'infinity' || text === '-infinity') return { timestamp: timestampResult(text), offset: utc };
  const m = TIMESTAMP.exec(text);
  if (!m || m[8] === undefined) throw formatError('timestamptz', text);
  const [h = 0, mi = 0, s = 0] = m[8].slice(1).split(':').map(Number);
  const east = (m[8][0] === '-' ? -1 : 1) * (h * 3600 + mi * 60 + s);
  const local = daysFromCivil(year(m[1], m[9]), Number(m[2]), Number(m[3])) * MICROS_PER_DAY +
    ((Number(m[4]) * 60 + Number(m[5])) * 60 + Number(m[6])) * 1e6 + micros(m[7]);
  // Exact in a double: |days| < 2^31 and a day has 2^36.3 microseconds.
  const instant = local - east * 1e6;
  const days = Math.floor(instant / MICROS_PER_DAY);
  let rest = instant - days * MICROS_PER_DAY;
  const [y, mo, d] = civilFromDays(days);
  const micro = rest % 1e6;
  rest = (rest - micro) / 1e6;
  return {
    timestamp: {
      date: { tag: 'ymd', val: [y, mo, d] },
      time: { hour: Math.floor(rest / 3600), min: Math.floor(rest / 60) % 60, sec: rest % 60, micro },
    },
    offset: utc,
  };
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, astronomical years).
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}
