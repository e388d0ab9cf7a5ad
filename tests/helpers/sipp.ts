import { createSocket } from 'node:dgram';

/**
 * The go for a waiting sipp scenario: an OPTIONS in the call's Call-ID (taken from the
 * REGISTER sipp saw), with the scenario's input in Subject. Sent over UDP from a throwaway
 * socket; sipp's answer, if any, is not read.
 */
export async function sendSippGo(o: { sippPort: number; callId: string; subject: string; viaPort: number }): Promise<void> {
  const go = [
    `OPTIONS sip:34020000002000000001@127.0.0.1:${o.sippPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.viaPort};branch=z9hG4bKgo1`,
    'From: <sip:test@127.0.0.1>;tag=go',
    'To: <sip:34020000002000000001@3402000000>',
    `Call-ID: ${o.callId}`,
    'CSeq: 1 OPTIONS',
    `Subject: ${o.subject}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.send(go, o.sippPort, '127.0.0.1', () => resolve()));
  socket.close();
}
