// IpAddress / NotIpAddress: IPv4 and IPv6 addresses and CIDR ranges (RFC 4632, RFC 4291), as
// bigints. An address only falls in a range of its own family.

interface Address {
  v6: boolean;
  value: bigint;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(p));
  }
  return value;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) groups.push(parseInt(p, 16));
    else return undefined;
  }
  return groups;
}

function parseV6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseAddress(text: string): Address | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { v6: true, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { v6: false, value };
}

export interface Range {
  v6: boolean;
  network: bigint;
  bits: number;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128). Host bits may be set, as IAM allows. */
export function parseRange(text: string): Range | undefined {
  const slash = text.indexOf('/');
  const address = parseAddress(slash === -1 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const width = address.v6 ? 128 : 32;
  const prefix = slash === -1 ? String(width) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > width) return undefined;
  const bits = Number(prefix);
  const shift = BigInt(width - bits);
  return { v6: address.v6, network: (address.value >> shift) << shift, bits };
}

const MAPPED = 0xffffn << 32n; // ::ffff:0:0/96, IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2)

/**
 * An IPv4-mapped IPv6 address is the IPv4 address it maps: a dual-stack listener (`--host ::`)
 * reports IPv4 clients as `::ffff:a.b.c.d`, and AWS would see them as `a.b.c.d`.
 */
function unmapped(address: Address): Address {
  return address.v6 && address.value >> 32n === MAPPED >> 32n ? { v6: false, value: address.value & 0xffffffffn } : address;
}

export function inRange(range: Range, text: string): boolean {
  const parsed = parseAddress(text);
  const address = parsed && !range.v6 ? unmapped(parsed) : parsed;
  if (!address || address.v6 !== range.v6) return false;
  const shift = BigInt((range.v6 ? 128 : 32) - range.bits);
  return (address.value >> shift) << shift === range.network;
}
