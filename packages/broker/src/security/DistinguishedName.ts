/** Attribute keywords RFC 2253 (and so Java's X500Principal.getName()) prints by name. */
const RFC2253_KEYWORDS = new Set(['CN', 'C', 'L', 'ST', 'O', 'OU', 'STREET', 'DC', 'UID']);

/** Others print as OID=#hex-of-DER; emailAddress (an IA5String) is the one client certificates carry. */
const OID_BY_NAME: Readonly<Record<string, { oid: string; tag: number }>> = {
  emailAddress: { oid: '1.2.840.113549.1.9.1', tag: 0x16 },
};

function derHex(tag: number, value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const len =
    bytes.length < 0x80
      ? Buffer.from([bytes.length])
      : bytes.length < 0x100
        ? Buffer.from([0x81, bytes.length])
        : Buffer.from([0x82, bytes.length >> 8, bytes.length & 0xff]);
  return `#${Buffer.concat([Buffer.from([tag]), len, bytes]).toString('hex')}`;
}

/**
 * A certificate subject as node prints it (one RDN per line, most significant first, values
 * already escaped per RFC 2253, multi-valued RDNs joined with " + ") in the RFC 2253 form Kafka
 * builds SSL principals from: least significant RDN first, comma-separated, e.g.
 * `CN=alice,OU=eng,O=Fjord,C=NO`.
 */
export function rfc2253(nodeSubject: string): string {
  return nodeSubject
    .split('\n')
    .filter((l) => l !== '')
    .reverse()
    .map((rdn) =>
      rdn
        .split(' + ')
        .map((ava) => {
          const eq = ava.indexOf('=');
          const type = ava.slice(0, eq);
          const value = ava.slice(eq + 1);
          if (RFC2253_KEYWORDS.has(type)) return `${type}=${value}`;
          const oid = OID_BY_NAME[type];
          return oid ? `${oid.oid}=${derHex(oid.tag, value.replace(/\\(.)/g, '$1'))}` : `${type}=${value}`;
        })
        .join('+'),
    )
    .join(',');
}
