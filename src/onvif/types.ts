/** What WS-Discovery and the Device/Media services tell about an ONVIF device. */

/** One device that answered a WS-Discovery probe (merged over repeated probes). */
export interface DiscoveredDevice {
  /** WS-Addressing endpoint reference, usually `urn:uuid:…`: the device's stable identity. */
  endpointRef: string;
  /** Device service URLs (XAddrs) the device announced. */
  xaddrs: string[];
  /** Host of the first XAddr (IP address in practice). */
  address: string;
  types: string[];
  scopes: string[];
  /** From the `onvif://www.onvif.org/name/…` and `…/hardware/…` scopes, when present. */
  scopeName: string | null;
  scopeHardware: string | null;
}

/** GetDeviceInformation, every field read as text (serials can be long digit strings). */
export interface DeviceInformation {
  manufacturer: string | null;
  model: string | null;
  firmwareVersion: string | null;
  serialNumber: string | null;
  hardwareId: string | null;
}

/** A media profile with its video encoder settings. */
export interface MediaProfile {
  token: string;
  name: string;
  /** `H264`, `H265`, `JPEG`, `MPEG4`, or null when the profile has no video encoder. */
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrateKbps: number | null;
  /** RTSP URI (RTP over RTSP/TCP); null when the device gave none for this profile. */
  streamUri: string | null;
  snapshotUri: string | null;
}

/** Everything an authenticated probe of one device found. */
export interface DeviceProbe {
  xaddr: string;
  info: DeviceInformation;
  profiles: MediaProfile[];
  /** Device clock minus gateway clock, in seconds (positive: the device is ahead). */
  clockDriftSeconds: number;
  /** Service namespaces the device offers (GetServices, or GetCapabilities on older devices). */
  services: string[];
  /** The PTZ service's profiles and node; null when the device offers no PTZ service. */
  ptz: PtzProbe | null;
}

/** What the PTZ node (ptz.wsdl PTZNode) says it can do. */
export interface PtzNodeFacts {
  /** ContinuousPanTiltVelocitySpace present: ContinuousMove can pan and tilt. */
  panTilt: boolean;
  /** ContinuousZoomVelocitySpace present. */
  zoom: boolean;
  maxPresets: number;
  home: boolean;
}

/** The probe's PTZ reading; null when the device offers no PTZ service. */
export interface PtzProbe {
  /** Media profiles that carry a PTZConfiguration, in device order. */
  profileTokens: string[];
  /** The first PTZ node, or null when GetNodes gave none. */
  node: PtzNodeFacts | null;
}
