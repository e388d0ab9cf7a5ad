export type { DeviceInformation, DeviceProbe, DiscoveredDevice, MediaProfile } from './types.js';
export { probeNetwork, type ProbeOptions } from './wsDiscovery.js';
export { probeDevice, readDeviceClock, readDeviceInformation, type DeviceTarget } from './deviceClient.js';
export { OnvifClockCheck, type ClockReadingSink } from './clockCheck.js';
export {
  OnvifDiscovery,
  FINDING_KINDS,
  type DiscoveryEntry,
  type DiscoveryRequest,
  type DiscoveryResult,
  type DiscoverySettings,
} from './discoveryService.js';
export { OnvifOnboarding, deviceServiceUrl, type OnboardResult, type OnboardingSettings } from './onboarding.js';
export { chooseProfiles, sharedSubStream, type ProfileChoice } from './profileChoice.js';
export { parseCsv, onboardRowsFromCsv, type OnboardRow } from './csv.js';
export { startOnvif, type OnvifWiringDeps, type OnvifComponents } from './wiring.js';
export { OnvifPtz, type OnvifPtzDeps } from './ptzControl.js';
