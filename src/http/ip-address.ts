/**
 * IP addresses and CIDR ranges as 16 bytes, IPv4 held as IPv4-mapped IPv6 (`::ffff:a.b.c.d`,
 * RFC 4291 §2.5.5.2), so that `1.2.3.4` and `::ffff:1.2.3.4` are one peer and one comparison covers
 * both families. Parsing is strict: no leading zeros in IPv4 parts (`010` is octal to some parsers
 * and decimal to others), no zone IDs, nothing but the address.
 */

/** 16 bytes; an IPv4 address is `::ffff:a.b.c.d`. */
export type IpBytes = Uint8Array;

/** A CIDR range: the first `prefix` bits of `bytes` (prefix counted on the 128-bit form). */
export interface IpRange {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  const m = IPV4.exec(text);
  if (m === null) return false;
  for (let i = 0; i < 4; i++) {
    const part = Number(m[i + 1]);
    if (part > 255) return false;
    out[at + i] = part;
  }
  return true;
}

/** Parses an IPv4 or IPv6 address (no zone, no brackets, no port); null when it is not one. */
export function parseIp(text: string): IpBytes | null {
  const out = new Uint8Array(16);
  if (text.indexOf(":") === -1) {
    if (!parseIPv4Into(text, out, 12)) return null;
    out[10] = 0xff;
    out[11] = 0xff;
    return out;
  }
  if (text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string | undefined): string[] => (half === undefined || half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // A trailing dotted quad fills the last 32 bits (RFC 4291 §2.2, form 3).
  const words: number[] = [];
  const last = halves.length === 2 ? tail : head;
  let v4: Uint8Array | null = null;
  if (last.length > 0 && (last[last.length - 1] as string).indexOf(".") !== -1) {
    v4 = new Uint8Array(4);
    if (!parseIPv4Into(last.pop() as string, v4, 0)) return null;
  }
  const toWords = (parts: string[]): boolean => {
    for (const part of parts) {
      if (!HEX_GROUP.test(part)) return false;
      words.push(Number.parseInt(part, 16));
    }
    return true;
  };
  const wanted = v4 === null ? 8 : 6;
  if (!toWords(head)) return null;
  const headCount = words.length;
  if (!toWords(tail)) return null;
  if (halves.length === 2) {
    if (words.length >= wanted) return null; // "::" stands for at least one zero group
    words.splice(headCount, 0, ...new Array<number>(wanted - words.length).fill(0));
  } else if (words.length !== wanted) return null;
  for (let i = 0; i < wanted; i++) {
    out[i * 2] = (words[i] as number) >> 8;
    out[i * 2 + 1] = (words[i] as number) & 0xff;
  }
  if (v4 !== null) out.set(v4, 12);
  return out;
}

/** Whether `bytes` is an IPv4-mapped address (`::ffff:0:0/96`). */
export function isMapped(bytes: IpBytes): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Whether `address` is inside `range`. */
export function inRange(address: IpBytes, range: IpRange): boolean {
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[full] as number) & mask) === ((range.bytes[full] as number) & mask);
}

/** The textual form of an address: dotted for IPv4 (mapped or not), RFC 5952 compressed for IPv6. */
export function formatIp(bytes: IpBytes): string {
  if (isMapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestAt = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestAt === -1) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLength).join(":")}`;
}
