// Time zones: validation, offsets, RFC 3339 formatting and wall-time resolution for `at:`.
//
// Offsets come from Intl (the tz data Node ships). Asking Intl costs ~10 µs, so each zone keeps a
// lazily built table of its transitions, one 32-day bucket at a time; a lookup is then a few compares.
// "UTC" is answered without Intl: the first Intl.DateTimeFormat of a process costs ~8 MB of RSS (ICU's
// date-time data and code), which a daemon whose zones are all UTC then never pays.

import { readlinkSync } from "node:fs";
import { HintedError } from "../errors.js";
import { nearest } from "./suggest.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Width of one cached bucket of a zone's transitions. */
const BUCKET_MS = 32 * DAY_MS;
/** Distance between Intl samples inside a bucket; two transitions closer than this (no zone has them) are not told apart. */
const SAMPLE_MS = DAY_MS;

const UTC_NAMES = new Set(
  [
    "UTC",
    "Etc/UTC",
    "Etc/UCT",
    "UCT",
    "Etc/Universal",
    "Universal",
    "Etc/Zulu",
    "Zulu",
    "GMT",
    "Etc/GMT",
    "Etc/GMT0",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "GMT0",
    "GMT+0",
    "GMT-0",
    "Etc/Greenwich",
    "Greenwich",
  ].map((name) => name.toLowerCase()),
);

let knownZones: readonly string[] | undefined;
let knownZonesByLowerCase: ReadonlyMap<string, string> | undefined;

function zoneNames(): readonly string[] {
  if (!knownZones) {
    const names = new Set(Intl.supportedValuesOf("timeZone"));
    names.add("UTC");
    knownZones = [...names].sort();
    knownZonesByLowerCase = new Map(knownZones.map((name) => [name.toLowerCase(), name]));
  }
  return knownZones;
}

function zoneByLowerCase(lower: string): string | undefined {
  zoneNames();
  return knownZonesByLowerCase!.get(lower);
}

const validity = new Map<string, boolean>();

/**
 * Whether `zone` is an IANA zone name Intl accepts (links such as "US/Eastern" included).
 * A canonical name in the wrong case ("europe/berlin") is rejected, so that the user is told the
 * spelling; Intl itself would accept it.
 */
export function isValidZone(zone: string): boolean {
  if (zone === UTC) return true;
  let valid = validity.get(zone);
  if (valid === undefined) {
    // Node 22+ accepts offsets such as "+01:00" as zones; they are not IANA names and have no DST rules.
    valid = !/^[+-]/.test(zone) && acceptedByIntl(zone);
    if (valid) {
      const canonical = zoneByLowerCase(zone.toLowerCase());
      if (canonical !== undefined && canonical !== zone && !UTC_NAMES.has(zone.toLowerCase())) valid = false;
    }
    validity.set(zone, valid);
  }
  return valid;
}

function acceptedByIntl(zone: string): boolean {
  if (zone === "" || zone.trim() !== zone) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone every ECMAScript engine knows, at offset 0 for all time. */
const UTC = "UTC";

/** The host's zone (TZ, else the system setting), or "UTC" when it cannot be told. */
export function systemZone(): string {
  if (hostZoneIsUtc(process.env.TZ, localtimeLink)) return UTC;
  const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && isValidZone(zone) ? zone : UTC;
}

/**
 * Whether the host's zone is certainly UTC, told without Intl: TZ names UTC, or TZ is unset and /etc/localtime
 * links to the zoneinfo file of UTC, which is where ICU (Intl's zone data) looks. Intl then says "UTC" too, on
 * Node 20 to 24. False when unsure, and then Intl is asked.
 */
export function hostZoneIsUtc(tz: string | undefined, readLink: (path: string) => string): boolean {
  if (tz !== undefined) return UTC_TZ_VALUES.has(tz);
  let target: string;
  try {
    target = readLink("/etc/localtime");
  } catch {
    return false;
  }
  return target.endsWith("/zoneinfo/UTC") || target.endsWith("/zoneinfo/Etc/UTC");
}

const UTC_TZ_VALUES = new Set(["UTC", "Etc/UTC", ":UTC", ":Etc/UTC"]);

function localtimeLink(path: string): string {
  return readlinkSync(path);
}

/**
 * The IANA name `bad` was probably meant to be: a case-insensitive match first, then a city given
 * without its region ("berlin"), then the nearest name by edit distance if it is close enough.
 */
export function suggestZone(bad: string): string | undefined {
  const lower = bad.trim().toLowerCase().replace(/ /g, "_");
  if (lower === "") return undefined;
  const exact = zoneByLowerCase(lower);
  if (exact !== undefined) return exact;
  const names = zoneNames();
  if (!lower.includes("/")) {
    const city = names.find((name) => name.toLowerCase().endsWith(`/${lower}`));
    if (city !== undefined) return city;
  }
  return nearest(lower, names, Math.max(2, Math.floor(lower.length / 4)));
}

interface Bucket {
  /** Offset at the bucket's start. */
  readonly startOffsetMs: number;
  /** Instants (ascending) where the offset changes, with the offset from then on. */
  readonly changes: readonly { readonly atMs: number; readonly offsetMs: number }[];
}

/** What the code below asks of a zone. */
interface ZoneRules {
  offsetMs(timeMs: number): number;
  transitionsBetween(fromMs: number, toMs: number): number[];
}

/** UTC's rules, known without asking Intl: offset 0, never a transition. */
const UTC_RULES: ZoneRules = {
  offsetMs: () => 0,
  transitionsBetween: () => [],
};

class ZoneTable implements ZoneRules {
  private readonly format: Intl.DateTimeFormat;
  private readonly buckets = new Map<number, Bucket>();

  constructor(zone: string) {
    // The offset itself, as text ("GMT+05:45", "GMT+00:53:28", "GMT"): a quarter of the cost of reading the
    // wall clock's fields back from formatToParts.
    this.format = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
  }

  offsetMs(timeMs: number): number {
    const index = Math.floor(timeMs / BUCKET_MS);
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = this.build(index * BUCKET_MS);
      this.buckets.set(index, bucket);
    }
    let offset = bucket.startOffsetMs;
    for (const change of bucket.changes) {
      if (change.atMs > timeMs) break;
      offset = change.offsetMs;
    }
    return offset;
  }

  transitionsBetween(fromMs: number, toMs: number): number[] {
    const found: number[] = [];
    for (let index = Math.floor(fromMs / BUCKET_MS); index * BUCKET_MS < toMs; index++) {
      const startMs = index * BUCKET_MS;
      // A change on a bucket's first instant is in neither bucket's list: compare with the instant before.
      const startOffsetMs = this.offsetMs(startMs);
      if (startMs >= fromMs && this.offsetMs(startMs - 1) !== startOffsetMs) found.push(startMs);
      for (const change of this.buckets.get(index)!.changes) {
        if (change.atMs >= fromMs && change.atMs < toMs) found.push(change.atMs);
      }
    }
    return found;
  }

  private build(startMs: number): Bucket {
    const changes: { atMs: number; offsetMs: number }[] = [];
    const startOffsetMs = this.askIntl(startMs);
    let previousMs = startMs;
    let previousOffset = startOffsetMs;
    for (let sampleMs = startMs + SAMPLE_MS; sampleMs <= startMs + BUCKET_MS; sampleMs += SAMPLE_MS) {
      const offset = this.askIntl(sampleMs);
      if (offset !== previousOffset) {
        const changeMs = firstSecondWhere(previousMs, sampleMs, (t) => this.askIntl(t) !== previousOffset);
        if (changeMs < startMs + BUCKET_MS)
          changes.push({ atMs: changeMs, offsetMs: this.askIntl(changeMs) });
        previousOffset = offset;
      }
      previousMs = sampleMs;
    }
    return { startOffsetMs, changes };
  }

  private askIntl(timeMs: number): number {
    const text = this.format.format(new Date(Math.floor(timeMs / 1000) * 1000));
    const match = LONG_OFFSET.exec(text);
    if (!match) throw new RangeError(`unexpected offset from Intl: "${text}"`);
    const [, sign, hours, minutes, seconds] = match;
    if (sign === undefined) return 0;
    const offsetMs = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds ?? 0)) * 1000;
    return sign === "-" ? -offsetMs : offsetMs;
  }
}

/** The end of a date formatted with timeZoneName "longOffset". */
const LONG_OFFSET = /GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/;

const tables = new Map<string, ZoneTable>();

function table(zone: string): ZoneRules {
  if (zone === UTC) return UTC_RULES;
  let found = tables.get(zone);
  if (!found) {
    if (!isValidZone(zone) && !acceptedByIntl(zone)) throw new RangeError(`unknown time zone "${zone}"`);
    found = new ZoneTable(zone);
    tables.set(zone, found);
  }
  return found;
}

/** The zone's offset from UTC at `timeMs` (local = UTC + offset), in ms. Throws RangeError for an unknown zone. */
export function zoneOffsetMs(zone: string, timeMs: number): number {
  return table(zone).offsetMs(timeMs);
}

/**
 * The real instants (ascending) whose wall clock in `zone` reads `wallMs` (UTC-coded): none in a
 * spring-forward gap, two in a fall-back overlap, otherwise one.
 */
export function instantsOfWallTime(zone: string, wallMs: number): number[] {
  const zoneTable = table(zone);
  const before = zoneTable.offsetMs(wallMs - DAY_MS);
  const at = zoneTable.offsetMs(wallMs);
  const after = zoneTable.offsetMs(wallMs + DAY_MS);
  if (before === at && at === after) {
    // No transition within a day either way, the common case: one instant.
    const instant = wallMs - at;
    return zoneTable.offsetMs(instant) === at ? [instant] : [];
  }
  const offsets = new Set([before, at, after]);
  const instants: number[] = [];
  for (const offset of offsets) {
    const instant = wallMs - offset;
    if (zoneTable.offsetMs(instant) === offset) instants.push(instant);
  }
  return instants.sort((a, b) => a - b);
}

/**
 * For a wall time that falls in a spring-forward gap: the instant of the jump, i.e. the first
 * instant whose wall clock reads `wallMs` or later.
 */
export function gapEndInstant(zone: string, wallMs: number): number {
  const zoneTable = table(zone);
  return firstSecondWhere(
    wallMs - 27 * HOUR_MS,
    wallMs + 27 * HOUR_MS,
    (t) => t + zoneTable.offsetMs(t) >= wallMs,
  );
}

/**
 * The instants in [fromMs, toMs) where the zone's offset changes, ascending. They come from the zone's table,
 * so a scan over a year costs a dozen bucket look-ups.
 */
export function transitionsBetween(zone: string, fromMs: number, toMs: number): number[] {
  return table(zone).transitionsBetween(fromMs, toMs);
}

/**
 * The first whole second in (loMs, hiMs] (both rounded out to whole seconds) at which `holds` is true, for a
 * `holds` that is false up to some instant and true from then on: the one search behind every transition,
 * jump and fall-back this module finds.
 */
function firstSecondWhere(loMs: number, hiMs: number, holds: (timeMs: number) => boolean): number {
  let lo = Math.floor(loMs / 1000) * 1000;
  let hi = Math.ceil(hiMs / 1000) * 1000;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (holds(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const minutes = Math.round(Math.abs(offsetMs) / MINUTE_MS);
  return `${sign}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** A UTC-coded wall time as ISO local text: "2026-03-08T02:15", with ":SS" only when seconds are set. */
export function formatWallTime(wallMs: number): string {
  const date = new Date(wallMs);
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
  const seconds = date.getUTCSeconds();
  const ms = date.getUTCMilliseconds();
  if (ms !== 0) return `${base}:${pad(seconds)}.${pad(ms, 3)}`;
  return seconds !== 0 ? `${base}:${pad(seconds)}` : base;
}

/**
 * RFC 3339 in `zone`, with the zone's offset: "2026-03-08T03:00:00-04:00". Seconds are always
 * shown, milliseconds only when non-zero; UTC zones ("UTC", "Etc/UTC", …) end in "Z".
 */
export function formatInZone(timeMs: number, zone: string): string {
  const offsetMs = zoneOffsetMs(zone, timeMs);
  const date = new Date(timeMs + offsetMs);
  const ms = date.getUTCMilliseconds();
  const text =
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    (ms !== 0 ? `.${pad(ms, 3)}` : "");
  return text + (UTC_NAMES.has(zone.toLowerCase()) ? "Z" : formatOffset(offsetMs));
}

/** A date-time for `at:` that cannot be used; `hint` says how to write it. */
export class WallTimeError extends HintedError {
  override name = "WallTimeError";
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

const FORMAT_HINT =
  'write it as YYYY-MM-DD HH:MM[:SS], optionally with an offset: "2026-12-01 09:00" or "2026-12-01T09:00:00+01:00"';

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function hhmm(wallMs: number): string {
  const date = new Date(wallMs);
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;
}

/**
 * Resolves an `at:` date-time (ISO 8601) to an instant. With an offset ("…+01:00", "Z") it is exact;
 * without one it is wall time in `zone`. Throws WallTimeError for malformed text, impossible fields,
 * a wall time in a spring-forward gap (does not exist) or in a fall-back overlap (exists twice).
 */
export function resolveWallTime(text: string, zone: string): number {
  const timeMs = resolveAnyWallTime(text, zone);
  if (timeMs > LATEST_INSTANT_MS || timeMs < EARLIEST_INSTANT_MS) {
    throw new WallTimeError(
      timeMs > LATEST_INSTANT_MS
        ? `"${text}" is after 9999-12-31 23:59:59 UTC, the latest time tdefer can plan`
        : `"${text}" is before 0000-01-01 00:00 UTC, the earliest time tdefer can plan`,
      "use a date in the years 0000–9999",
    );
  }
  return timeMs;
}

/**
 * The latest instant tdefer plans a fire at (9999-12-31T23:59:59.999Z): beyond it RFC 3339 has no 4-digit
 * year, and a little further Date and Intl cannot format it at all. Triggers plan nothing later.
 */
export const LATEST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The earliest instant a date-time may name (0000-01-01T00:00Z), for the same reason. */
const EARLIEST_INSTANT_MS = new Date(0).setUTCFullYear(0, 0, 1);

function resolveAnyWallTime(text: string, zone: string): number {
  const trimmed = text.trim();
  const match = DATE_TIME.exec(trimmed);
  if (!match) {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(trimmed);
    throw new WallTimeError(
      dateOnly
        ? `"${text}" has a date but no time of day`
        : `"${text}" is not an ISO 8601 date-time like "2026-12-01 09:00"`,
      dateOnly ? `add the time: "${trimmed} 00:00"` : FORMAT_HINT,
    );
  }
  const [, y, mo, d, h, mi, s, frac, zulu, sign, offH, offM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  if (month < 1 || month > 12)
    throw new WallTimeError(`"${text}": month ${month} is out of range 01–12`, FORMAT_HINT);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) {
    throw new WallTimeError(
      `"${text}": ${MONTH_NAMES[month - 1]} ${year} has no day ${day} (it has ${daysInMonth} days)`,
      FORMAT_HINT,
    );
  }
  if (hour > 23) throw new WallTimeError(`"${text}": hour ${hour} is out of range 00–23`, FORMAT_HINT);
  if (minute > 59) throw new WallTimeError(`"${text}": minute ${minute} is out of range 00–59`, FORMAT_HINT);
  if (second > 59) throw new WallTimeError(`"${text}": second ${second} is out of range 00–59`, FORMAT_HINT);

  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, ms);
  const wallMs = wall.getTime();

  if (zulu !== undefined) return wallMs;
  if (sign !== undefined) {
    const offsetHours = Number(offH);
    const offsetMinutes = offM === undefined ? 0 : Number(offM);
    if (offsetHours > 23 || offsetMinutes > 59) {
      throw new WallTimeError(
        `"${text}": the offset ${sign}${offH}:${offM ?? "00"} is not valid`,
        FORMAT_HINT,
      );
    }
    const offsetMs = (sign === "-" ? -1 : 1) * (offsetHours * HOUR_MS + offsetMinutes * MINUTE_MS);
    return wallMs - offsetMs;
  }

  if (!isValidZone(zone)) {
    const suggestion = suggestZone(zone);
    throw new WallTimeError(
      `unknown time zone "${zone}"`,
      suggestion ? `did you mean "${suggestion}"?` : "use an IANA name such as Europe/Berlin",
    );
  }
  const instants = instantsOfWallTime(zone, wallMs);
  if (instants.length === 1) return instants[0]!;
  if (instants.length === 0) {
    const jumpMs = gapEndInstant(zone, wallMs);
    const beforeMs = jumpMs + zoneOffsetMs(zone, jumpMs - 1000);
    const afterMs = jumpMs + zoneOffsetMs(zone, jumpMs);
    throw new WallTimeError(
      `${trimmed} does not exist in ${zone} (the clocks jump from ${hhmm(beforeMs)} to ${hhmm(afterMs)})`,
      `use a time outside the gap, e.g. ${formatInZone(jumpMs, zone)}, or give an offset`,
    );
  }
  const firstPass = formatInZone(instants[0]!, zone);
  const secondPass = formatInZone(instants[1]!, zone);
  const backMs = fallBackInstant(zone, instants[1]!);
  const fromWall = backMs + zoneOffsetMs(zone, backMs - 1000);
  const toWall = backMs + zoneOffsetMs(zone, backMs);
  throw new WallTimeError(
    `${trimmed} happens twice in ${zone} (the clocks go back from ${hhmm(fromWall)} to ${hhmm(toWall)}); ` +
      `add an offset: ${firstPass} (first) or ${secondPass} (second)`,
    `write ${firstPass} for the first time or ${secondPass} for the second`,
  );
}

/** The instant of the fall-back that put `secondPassMs` in a repeated interval. */
function fallBackInstant(zone: string, secondPassMs: number): number {
  const offset = zoneOffsetMs(zone, secondPassMs);
  return firstSecondWhere(
    secondPassMs - 27 * HOUR_MS,
    Math.floor(secondPassMs / 1000) * 1000,
    (t) => zoneOffsetMs(zone, t) === offset,
  );
}
