/**
 * One spelling of a client address for audit items, logs and rate-limit keys: an IPv4 client seen
 * through a dual-stack socket or written as IPv4-mapped IPv6 (`::ffff:203.0.113.5`,
 * `::ffff:cb00:7105`) is its dotted IPv4 (`203.0.113.5`); IPv6 is the RFC 5952 text form
 * (lower case, longest zero run compressed), as the WHATWG URL parser serializes it.
 */
import { isIP } from 'node:net';

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** The canonical text of `address`; anything that is not an IP address is returned as given. */
export function canonicalIp(address: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return address;
  let text: string;
  try {
    text = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    // Forms URL refuses (a zone index such as `fe80::1%eth0`): lower case is all we can promise.
    return address.toLowerCase();
  }
  const mapped = MAPPED.exec(text);
  if (!mapped) return text;
  const [hi, lo] = [parseInt(mapped[1] as string, 16), parseInt(mapped[2] as string, 16)];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
