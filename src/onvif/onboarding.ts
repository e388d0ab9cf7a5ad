/**
 * Onboarding one ONVIF camera: the registry's own checks first (fields, site type,
 * privacy guard), then the device (clock, credentials, profiles, stream URIs), the
 * integrator's profile choice, a real play check of each chosen stream, and only then
 * the registration. Every failure names its step and leaves nothing registered; a
 * device already onboarded (same endpoint reference or serial) is reported, not added
 * twice, so a bulk run can be repeated.
 */
import { z } from 'zod';
import { normalizeRtspUrl, type CameraRegistry } from '../cameras/index.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { OnvifDeviceRepository } from '../store/index.js';
import type { DeviceTarget } from './deviceClient.js';
import { atStep, onvifStepError, type OnvifStep } from './errors.js';
import { chooseProfiles } from './profileChoice.js';
import { ptzCapability } from './ptzCapability.js';
import type { CameraCredentials, CameraView, OnvifDeviceRecord } from '../domain/index.js';
import type { DeviceProbe, MediaProfile } from './types.js';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** ONVIF fields; the camera fields are checked by the registry's own schema. */
export const onboardRequestSchema = z.looseObject({
  device: text(500),
  username: z
    .string()
    .max(128)
    .regex(/^[^<>&"']*$/, 'must not contain < > & " or \'')
    .default(''),
  password: z.string().max(256).default(''),
  recordProfile: text(64).optional(),
  sharedProfile: text(64).optional(),
  endpointRef: text(200).optional(),
});

export type OnboardResult =
  | { outcome: 'onboarded'; cameraId: string; camera: CameraView; onvif: OnvifDeviceRecord; profiles: MediaProfile[] }
  | { outcome: 'already_registered'; cameraId: string; onvif: OnvifDeviceRecord };

export interface OnboardingSettings {
  requestTimeoutMs: number;
  /** Largest accepted |device clock − gateway clock|, in seconds. */
  maxClockDriftSeconds: number;
}

export interface OnboardingDeps {
  registry: CameraRegistry;
  /** Read to find a device already onboarded; the rows are written with the camera, in one transaction. */
  devices: OnvifDeviceRepository;
  probeDevice: (target: DeviceTarget) => Promise<DeviceProbe>;
  /** Plays the stream (ffprobe); throws a classified GatewayError when it does not. */
  playCheck: (url: string, credentials: CameraCredentials | null) => Promise<unknown>;
  settings: OnboardingSettings;
  logger: Logger;
  now?: () => Date;
  /** Told once the device's facts are stored: its chosen sub stream may now feed the shared tier. */
  onOnboarded?: (cameraId: string) => void;
}

const ONVIF_KEYS = new Set(['device', 'username', 'password', 'recordProfile', 'sharedProfile', 'endpointRef']);

export class OnvifOnboarding {
  readonly #deps: OnboardingDeps;
  readonly #log: Logger;
  readonly #now: () => Date;
  // One onboarding at a time: two runs for the same device must not both register it.
  #turn: Promise<unknown> = Promise.resolve();

  constructor(deps: OnboardingDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'onvif' });
    this.#now = deps.now ?? (() => new Date());
  }

  /** Reads the device as onboarding would (profiles, encoders, URIs, clock) and registers nothing. */
  async inspect(input: unknown): Promise<DeviceProbe> {
    const parsed = onboardRequestSchema.pick({ device: true, username: true, password: true }).safeParse(input);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { device, username, password } = parsed.data;
    return this.#deps.probeDevice({ xaddr: deviceServiceUrl(device), username, password, timeoutMs: this.#deps.settings.requestTimeoutMs });
  }

  onboard(input: unknown, actor: string): Promise<OnboardResult> {
    const run = this.#turn.then(() => this.#onboard(input, actor));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #onboard(input: unknown, actor: string): Promise<OnboardResult> {
    const parsed = onboardRequestSchema.safeParse(input);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const req = parsed.data;
    const xaddr = deviceServiceUrl(req.device);
    const where = `ONVIF device ${xaddr}`;
    const host = new URL(xaddr).hostname;
    const camera = Object.fromEntries(Object.entries(input as Record<string, unknown>).filter(([k]) => !ONVIF_KEYS.has(k)));
    const credentials: CameraCredentials | null =
      req.username === '' && req.password === '' ? null : { username: req.username, password: req.password };
    const step = async <T>(name: OnvifStep, run: () => Promise<T> | T): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        throw isGatewayError(err) && hasStep(err) ? err : onvifStepError(name, where, err, req.username);
      }
    };

    // The same rules as a manual registration, before any traffic to the device; the URL is a stand-in.
    await step('validate', () => this.#deps.registry.vet({ name: `ONVIF ${host}`, ...camera, rtspUrl: `rtsp://${host}/` }, actor));

    const probe = await this.#deps.probeDevice({
      xaddr,
      username: req.username,
      password: req.password,
      timeoutMs: this.#deps.settings.requestTimeoutMs,
    });

    const existing = await this.#deps.devices.findByIdentity({ endpointRef: req.endpointRef, serialNumber: probe.info.serialNumber });
    if (existing !== undefined) {
      this.#log.info({ cameraId: existing.cameraId, xaddr, actor }, 'ONVIF device already registered');
      return { outcome: 'already_registered', cameraId: existing.cameraId, onvif: existing };
    }

    const max = this.#deps.settings.maxClockDriftSeconds;
    if (Math.abs(probe.clockDriftSeconds) > max) {
      const drift = probe.clockDriftSeconds;
      throw atStep(
        'clock',
        where,
        new GatewayError(
          'ONVIF_CLOCK_DRIFT',
          `the device clock is off by ${drift} s (${drift > 0 ? 'ahead' : 'behind'}; at most ${max} s allowed)`,
          {
            hint: 'Point the camera at an NTP server (or set its time), then onboard again: recordings and evidence need correct timestamps.',
            details: { clockDriftSeconds: drift, maxClockDriftSeconds: max },
          },
        ),
      );
    }

    const choice = await step('profile choice', () =>
      chooseProfiles(probe.profiles, {
        ...(req.recordProfile === undefined ? {} : { record: req.recordProfile }),
        ...(req.sharedProfile === undefined ? {} : { shared: req.sharedProfile }),
      }),
    );
    const recordUrl = normalizeRtspUrl(choice.record.streamUri).url;
    const sharedUrl = normalizeRtspUrl(choice.shared.streamUri).url;
    for (const url of new Set([recordUrl, sharedUrl])) {
      await step('play check', () => this.#deps.playCheck(url, credentials));
    }

    const info = probe.info;
    const at = this.#now().toISOString();
    const deviceRecord = (cameraId: string): OnvifDeviceRecord => ({
      cameraId,
      endpointRef: req.endpointRef ?? null,
      xaddr,
      manufacturer: info.manufacturer,
      model: info.model,
      serialNumber: info.serialNumber,
      firmwareVersion: info.firmwareVersion,
      hardwareId: info.hardwareId,
      recordProfileToken: choice.record.token,
      recordStreamUrl: recordUrl,
      sharedProfileToken: choice.shared.token,
      sharedStreamUrl: sharedUrl,
      snapshotUrl: choice.record.snapshotUri,
      clockDriftSeconds: probe.clockDriftSeconds,
      clockCheckedAt: at,
      onboardedAt: at,
      lastSeenAt: null,
      ptz: ptzCapability(probe.ptz, choice.record.token),
    });
    // The camera, its audit entries, the ONVIF facts and the onboarding audit entry are one
    // transaction: a failure anywhere leaves nothing registered.
    const view = await step('register', () =>
      this.#deps.registry.create(
        {
          name: [info.manufacturer, info.model, host].filter((s) => s !== null && s !== '').join(' '),
          ...camera,
          rtspUrl: recordUrl,
          ...(credentials === null ? {} : credentials),
        },
        actor,
        {
          skipProbe: true,
          alongside: async (tx, created) => {
            const facts = deviceRecord(created.id);
            await tx.onvif.upsert(facts);
            await tx.audit.append({
              at,
              actor,
              action: 'camera.onboard',
              cameraId: created.id,
              outcome: 'ok',
              details: {
                xaddr,
                endpointRef: facts.endpointRef,
                serialNumber: facts.serialNumber,
                recordProfile: facts.recordProfileToken,
                sharedProfile: facts.sharedProfileToken,
                clockDriftSeconds: facts.clockDriftSeconds,
                ptz: facts.ptz?.kind ?? null,
              },
            });
          },
        },
      ),
    );
    const record = deviceRecord(view.id);
    this.#log.info(
      {
        cameraId: view.id,
        xaddr,
        recordProfile: record.recordProfileToken,
        sharedProfile: record.sharedProfileToken,
        drift: record.clockDriftSeconds,
        actor,
      },
      'ONVIF camera onboarded',
    );
    this.#deps.onOnboarded?.(view.id);
    return { outcome: 'onboarded', cameraId: view.id, camera: view, onvif: record, profiles: probe.profiles };
  }
}

/** `http(s)://…` as given; `host[:port]` becomes the standard device service path. */
export function deviceServiceUrl(device: string): string {
  const d = device.trim();
  if (/^https?:\/\//i.test(d)) {
    try {
      return new URL(d).toString();
    } catch {
      // fall through to the error below
    }
  } else if (/^[\w.-]+(:\d{1,5})?$|^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(d)) {
    return `http://${d}/onvif/device_service`;
  }
  throw new GatewayError('VALIDATION_FAILED', `device "${device}" is neither HOST[:PORT] nor an http(s) device-service URL`, {
    hint: 'Give the camera address, e.g. 192.168.1.64 or 192.168.1.64:8000, or the XAddr that discovery listed.',
    details: { step: 'validate' },
  });
}

function invalidRequest(error: z.ZodError): GatewayError {
  const problems = error.issues.map((i) => `${i.path.join('.') || 'request'} ${i.message}`);
  return new GatewayError('VALIDATION_FAILED', `invalid onboarding request: ${problems.join('; ')}`, {
    hint: 'Give at least device (address or device-service URL), siteType and the ONVIF credentials.',
    details: { problems, step: 'validate' },
  });
}

function hasStep(err: GatewayError): boolean {
  return typeof err.details === 'object' && err.details !== null && 'step' in err.details;
}
