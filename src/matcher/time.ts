/** Wall-clock times in named zones → epoch ms, without a date library (Intl knows the DST rules). */

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  sept: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

export function monthIndex(name: string): number | undefined {
  const k = name.toLowerCase().slice(0, name.toLowerCase().startsWith('sept') ? 4 : 3);
  return MONTHS[k];
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

/** Offset of `tz` from UTC at instant `utcMs`, in ms (New York in winter: −5 h). */
function offsetAt(tz: string, utcMs: number): number {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    fmtCache.set(tz, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * Local time in a zone → epoch ms. Zone names: "ET" (America/New_York with DST), "EST" (−5), "EDT" (−4),
 * "CT"/"CST"/"CDT", "PT", "UTC"/"GMT"/"Z".
 */
export function zonedTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  zone: string,
): number {
  const naive = Date.UTC(year, month, day, hour, minute);
  const z = zone.toUpperCase();
  const fixed: Record<string, number> = {
    UTC: 0,
    GMT: 0,
    Z: 0,
    EST: -5,
    EDT: -4,
    CST: -6,
    CDT: -5,
    PST: -8,
    PDT: -7,
  };
  if (z in fixed) return naive - fixed[z]! * 3_600_000;
  const tz = z === 'CT' ? 'America/Chicago' : z === 'PT' ? 'America/Los_Angeles' : 'America/New_York';
  let t = naive - offsetAt(tz, naive);
  t = naive - offsetAt(tz, t); // second pass settles DST edges
  return t;
}

/** Canonical zone token found in text, or undefined. */
export function zoneIn(text: string): string | undefined {
  const m = /\b(ET|EST|EDT|CT|CST|CDT|PT|PST|PDT|UTC|GMT)\b/.exec(text);
  if (m) return m[1];
  if (/eastern time/i.test(text)) return 'ET';
  return undefined;
}

/** "12:00 PM", "5:20AM", "noon", "5 PM", "17:00" → [hour, minute] in 24 h. */
export function parseClock(text: string): [number, number] | undefined {
  if (/\bnoon\b/i.test(text) && !/\d{1,2}(:\d{2})?\s*(am|pm)/i.test(text)) return [12, 0];
  const ap = /\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)/i.exec(text);
  if (ap) {
    let h = Number(ap[1]) % 12;
    if (ap[3]!.toLowerCase().startsWith('p')) h += 12;
    return [h, Number(ap[2] ?? 0)];
  }
  const h24 = /\b([01]?\d|2[0-3]):([0-5]\d)\b/.exec(text);
  if (h24) return [Number(h24[1]), Number(h24[2])];
  return undefined;
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
