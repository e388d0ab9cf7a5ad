/**
 * The GB/T 28181 SSRC (GB/T 28181-2016 Annex F, SDP field y=): ten decimal digits, the
 * first 0 for live and 1 for history (playback, download), the next five the 4th to 8th
 * digits of the SIP domain ID, the last four a stream serial within the domain. The RTP
 * SSRC is that decimal number. Never null, never all zeros.
 */

export type SsrcKind = 'live' | 'history';

export interface Ssrc {
  /** The y= text, as received or as generated (ten digits when standard). */
  text: string;
  /** The RTP SSRC field value. */
  value: number;
  /** Ten digits led by 0 or 1, as Annex F writes them. */
  standard: boolean;
  /** From the first digit, when standard. */
  kind?: SsrcKind;
}

export class SsrcError extends Error {
  override name = 'SsrcError';
}

const SERIALS = 10_000;

/** Digits 4 to 8 of a 10-digit domain ID or a 20-digit SIP ID (the domain is its first ten digits). */
export function domainDigits(domainId: string): string {
  if (!/^(\d{10}|\d{20})$/.test(domainId)) throw new SsrcError(`domain ID "${domainId}" is not 10 or 20 digits`);
  return domainId.slice(3, 8);
}

/** The standard SSRC for a stream serial (1..9999; 0 could make it all zeros). */
export function makeSsrc(kind: SsrcKind, domainId: string, serial: number): Ssrc {
  if (!Number.isInteger(serial) || serial < 1 || serial >= SERIALS) throw new SsrcError(`SSRC serial ${serial} is not in 1..9999`);
  const text = `${kind === 'live' ? '0' : '1'}${domainDigits(domainId)}${String(serial).padStart(4, '0')}`;
  return { text, value: Number(text), standard: true, kind };
}

/**
 * Reads an SSRC as a y= value. Platforms that send a non-standard one expect it used as
 * sent, so any decimal 32-bit value other than 0 is accepted and flagged non-standard.
 */
export function parseSsrc(text: string): Ssrc {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) throw new SsrcError(`SSRC "${text}" is not a decimal number of up to 10 digits`);
  const value = Number(trimmed);
  if (value === 0) throw new SsrcError('SSRC is all zeros');
  if (value > 0xffffffff) throw new SsrcError(`SSRC ${trimmed} does not fit 32 bits`);
  const standard = /^[01]\d{9}$/.test(trimmed);
  return standard ? { text: trimmed, value, standard, kind: trimmed[0] === '0' ? 'live' : 'history' } : { text: trimmed, value, standard };
}

/** The SSRC of an SDP body's y= line (GB/T 28181 extension of RFC 4566), or null when it has none. */
export function ssrcFromSdp(sdp: string): Ssrc | null {
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith('y='));
  return line === undefined ? null : parseSsrc(line.slice(2));
}

/** Hands out a fresh standard SSRC per session, skipping those still in use, per kind. */
export class SsrcAllocator {
  private readonly inUse = new Set<number>();
  private next: Record<SsrcKind, number> = { live: 1, history: 1 };

  constructor(private readonly domainId: string) {
    domainDigits(domainId);
  }

  allocate(kind: SsrcKind): Ssrc {
    for (let tries = 0; tries < SERIALS - 1; tries += 1) {
      const serial = this.next[kind];
      this.next[kind] = (serial % (SERIALS - 1)) + 1;
      const ssrc = makeSsrc(kind, this.domainId, serial);
      if (!this.inUse.has(ssrc.value)) {
        this.inUse.add(ssrc.value);
        return ssrc;
      }
    }
    throw new SsrcError(`all ${SERIALS - 1} ${kind} SSRCs of domain ${this.domainId} are in use`);
  }

  /** Also reserves SSRCs chosen by the platform (y= in its INVITE), so no session gets one twice. */
  reserve(ssrc: Ssrc): void {
    this.inUse.add(ssrc.value);
  }

  release(ssrc: Ssrc): void {
    this.inUse.delete(ssrc.value);
  }
}
