/**
 * Onboarding and probing failures name their step, so an integrator reads which of
 * "connect, auth, profiles, …" failed and why, in the message and in `details.step`.
 */
import { GatewayError, isGatewayError, type ErrorCode } from '../errors.js';

export type OnvifStep =
  'validate' | 'connect' | 'services' | 'auth' | 'profiles' | 'stream URI' | 'clock' | 'profile choice' | 'play check' | 'register';

const NETWORK =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Network timeout|socket hang up|Wrong ONVIF SOAP response/i;
const AUTH = /not ?authori[sz]ed|unauthori[sz]ed|authentication failed|\b401\b/i;

/** A GatewayError saying which step failed and why; keeps the code of an error that already has one. */
export function onvifStepError(step: OnvifStep, where: string, err: unknown, username?: string): GatewayError {
  if (isGatewayError(err)) return atStep(step, where, err);
  const reason = err instanceof Error ? err.message : String(err);
  const [code, what, hint] = classify(step, reason, username);
  return new GatewayError(code, `${where}: step "${step}" failed: ${what} (${reason})`, {
    hint,
    details: { step, reason },
    cause: err,
  });
}

/** Prefixes a GatewayError's message with the step and records the step in its details. */
export function atStep(step: OnvifStep, where: string, err: GatewayError): GatewayError {
  const details = typeof err.details === 'object' && err.details !== null ? err.details : {};
  return new GatewayError(err.code, `${where}: step "${step}" failed: ${err.message}`, {
    hint: err.hint,
    details: { ...details, step },
    cause: err,
  });
}

function classify(step: OnvifStep, reason: string, username = ''): [ErrorCode, string, string] {
  if (AUTH.test(reason)) {
    return [
      'ONVIF_AUTH_FAILED',
      `the device refused the credentials of user "${username}"`,
      'Check the ONVIF user name and password (many cameras keep ONVIF users apart from web users), and that the user may read media settings.',
    ];
  }
  if (NETWORK.test(reason) || step === 'connect' || step === 'services') {
    return [
      'ONVIF_UNREACHABLE',
      'the device does not answer ONVIF SOAP requests',
      'Check the address and port of the device service, that ONVIF is enabled on the camera, and that no firewall blocks HTTP to it.',
    ];
  }
  if (step === 'profiles') {
    return ['ONVIF_NO_PROFILE', 'the device offers no media profiles', 'Enable the media service (ONVIF Profile S) on the camera.'];
  }
  return ['ONVIF_UNREACHABLE', 'the device gave an unusable answer', 'Check the camera firmware; try again once it answers.'];
}
