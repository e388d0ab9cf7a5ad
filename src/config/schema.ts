import { z } from 'zod';
import { SHARED_ENCODER_LIMITS, sharedEncoderFields } from '../domain/index.js';
import { PROFILE_NAMES, PROFILES } from './profiles.js';

/**
 * The one schema of the gateway configuration: types, defaults, descriptions and the
 * JSON Schema all come from here. Objects are strict, so a misspelt key is an error
 * rather than a silently ignored setting. Rules that involve more than one field are the
 * named pure functions below, run after every field is valid.
 */

/** GB/T 2260 province-level prefixes (11 Beijing … 65 Xinjiang, 71 Taiwan, 81/82 HK/Macao). */
const PROVINCE_PREFIXES: ReadonlySet<string> = new Set(
  '11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82'.split(' '),
);

const digits = (n: number, what: string) =>
  z.string().regex(new RegExp(`^\\d{${n}}$`), { error: `must be ${what}: exactly ${n} digits, quoted in YAML` });

const port = (def: number, what: string) => z.number().int().min(1).max(65535).default(def).describe(what);

const nonEmpty = () => z.string().min(1);

const GatewaySection = z
  .strictObject({
    name: nonEmpty().max(64).default('psv-gateway').describe('Name shown in logs, metrics and the SIP User-Agent.'),
    regionCode: digits(8, 'a civil region code (中心编码)')
      .refine((s) => PROVINCE_PREFIXES.has(s.slice(0, 2)), {
        error: 'must start with a province code (GB/T 2260), e.g. 44 for Guangdong',
      })
      .default('44030500')
      .describe(
        'Centre code (中心编码), digits 1-8 of every GB/T 28181 device ID: the 6-digit GB/T 2260 ' +
          'administrative division code plus a 2-digit grassroots unit. The default 44030500 ' +
          '(Nanshan District, Shenzhen) is a placeholder; use the code the sharing platform assigns.',
      ),
    industryCode: digits(2, 'an industry code (行业编码)')
      .default('00')
      .describe('Industry code (行业编码), digits 9-10 of device IDs; 00 = street-level public security access.'),
    networkCode: digits(1, 'a network code (网络标识)')
      .default('8')
      .describe(
        'Network identifier (网络标识), digit 14 of device IDs (GB/T 28181 Annex D): 0-4 surveillance ' +
          'private network, 5 public security network, 6 e-government network, 7 Internet, ' +
          '8 social resource access network (社会资源接入网: cameras owned outside the police). Default 8.',
      ),
    typeCode: digits(3, 'a device type code (类型编码)')
      .default('132')
      .describe('Device type code (类型编码), digits 11-13 of camera IDs; 131 camera, 132 IP camera (default).'),
  })
  .prefault({})
  .describe('Identity of the gateway and the parts of the GB/T 28181 20-digit IDs it gives cameras.');

const HttpSection = z
  .strictObject({
    host: nonEmpty().default('0.0.0.0').describe('Address the API and web UI listen on.'),
    port: port(8080, 'Port of the API and web UI.'),
  })
  .prefault({})
  .describe('HTTP API.');

/** Binds that still let the gateway's ffmpegs reach RTMP on 127.0.0.1. */
const RTMP_HOSTS: readonly string[] = ['127.0.0.1', '0.0.0.0', '::'];

const MediaLimitsSection = z
  .strictObject({
    maxConnections: z
      .number()
      .int()
      .min(8)
      .max(100_000)
      .default(1024)
      .describe('Open connections each media port (RTMP, HTTP-FLV) accepts at once; more are closed on arrival.'),
    maxConnectionsPerAddress: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(32)
      .describe("Open connections one remote address may hold on each media port (loopback, the gateway's own ffmpegs, is exempt)."),
    preAuthMessageBytes: z
      .number()
      .int()
      .min(4096)
      .max(16 * 1024 * 1024)
      .default(64 * 1024)
      .describe(
        'Bytes of RTMP messages a connection may have declared, over all its chunk streams, before it is ' +
          'authorised to publish; a larger declaration closes the connection before anything is allocated.',
      ),
    mediaMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(16 * 1024 * 1024)
      .default(8 * 1024 * 1024)
      .describe('Largest RTMP message (one video frame) an authorised publisher may send.'),
    wsMaxPayloadBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(64 * 1024)
      .describe('Largest WebSocket message a WS-FLV viewer may send (viewers send nothing meaningful).'),
    authTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(10)
      .describe('Seconds an RTMP connection may stay open before it publishes or plays with valid credentials.'),
  })
  .prefault({})
  .describe('Limits that protect the media server from hostile clients before they are authenticated.');

const MediaSection = z
  .strictObject({
    host: nonEmpty().default('0.0.0.0').describe("Address the media server's HTTP-FLV / WS-FLV playback binds to."),
    rtmpHost: nonEmpty()
      .refine((h) => RTMP_HOSTS.includes(h), {
        error: `must be ${RTMP_HOSTS.join(', ')}: the gateway's own ffmpegs publish and read over 127.0.0.1`,
      })
      .default('127.0.0.1')
      .describe(
        "Address the RTMP port binds to. Only the gateway's own ffmpegs use RTMP (no RTMP URL is ever handed " +
          'out), so the default 127.0.0.1 keeps it off the network; 0.0.0.0 or :: exposes it.',
      ),
    rtmpPort: port(1935, 'RTMP port of the media server.'),
    httpPort: port(8000, 'HTTP port of the media server (HTTP-FLV playback).'),
    publicHost: z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, { error: 'must be a host name or IP address, without scheme or path' })
      .optional()
      .describe('Host name put into playback URLs; the request host is used when unset.'),
    playTokenTtlSeconds: z
      .number()
      .int()
      .min(30)
      .max(86400)
      .default(3600)
      .describe('Lifetime of signed playback tokens, in seconds (30 to 86400).'),
    internalTokenSeconds: z
      .number()
      .int()
      .min(5)
      .max(86400)
      .default(600)
      .describe(
        "Lifetime of the gateway's own play and publish URLs (masking, diagnostics, snapshot and push ffmpegs), in seconds (5 to 86400); each start of one gets a fresh URL, a connection once made is kept.",
      ),
    limits: MediaLimitsSection,
  })
  .prefault({})
  .describe('Built-in media server that serves live streams.');

const StoreSection = z
  .strictObject({
    driver: z.enum(['sqlite', 'postgres']).default('sqlite').describe('Database: embedded SQLite or PostgreSQL.'),
    sqlitePath: nonEmpty().optional().describe('SQLite file; <dataDir>/psvgw.db when unset.'),
    postgresUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'must be a postgres:// or postgresql:// URL' })
      .optional()
      .describe('PostgreSQL connection URL; required when driver is postgres.'),
    sqliteWorker: z
      .boolean()
      .default(true)
      .describe(
        'Run SQLite on a worker thread, so a lock held by another process (psvgw verify, a backup) or a long query never pauses live video; false runs it on the event loop.',
      ),
  })
  .prefault({})
  .describe('Where cameras, the audit trail and settings are kept.');

const FfmpegSection = z
  .strictObject({
    ffmpegPath: nonEmpty().default('ffmpeg').describe('ffmpeg executable, a name on PATH or an absolute path.'),
    ffprobePath: nonEmpty().default('ffprobe').describe('ffprobe executable, a name on PATH or an absolute path.'),
  })
  .prefault({})
  .describe('External ffmpeg tools.');

const BackoffSection = z
  .strictObject({
    initialMs: z.number().int().min(1).default(500).describe('First restart delay, in milliseconds.'),
    factor: z.number().min(1).max(10).default(2).describe('Each further delay is the previous one times this.'),
    maxMs: z.number().int().min(1).default(30000).describe('Longest restart delay, in milliseconds.'),
    jitter: z.number().min(0).max(1).default(0.2).describe('Random share (0 to 1) added to or taken from a delay.'),
  })
  .prefault({})
  .describe('Delay between restarts of a failed camera ingest.');

const H265LiveSection = z
  .strictObject({
    encoder: nonEmpty().default('libx264').describe('ffmpeg H.264 encoder for H.265 cameras (e.g. libx264, h264_nvenc).'),
    preset: nonEmpty().default('veryfast').describe("The encoder's speed preset."),
    maxBitrateKbps: z.number().int().min(100).max(100000).default(2000).describe('Bitrate cap, in kbit/s.'),
    gopSeconds: z.number().gt(0).max(10).default(1).describe('Keyframe interval, in seconds.'),
  })
  .prefault({})
  .describe('Live transcoding of H.265 cameras to H.264, which browsers and FLV can play. Recordings stay original.');

const IngestSection = z
  .strictObject({
    rtspTransport: z.enum(['tcp', 'udp']).default('tcp').describe('RTSP transport for pulling cameras.'),
    socketTimeoutSeconds: z.number().int().min(1).max(300).default(5).describe('RTSP socket timeout, in seconds.'),
    probeTimeoutSeconds: z.number().int().min(1).max(300).default(10).describe('ffprobe time limit, in seconds.'),
    stallSeconds: z
      .number()
      .min(1)
      .max(300)
      .default(3)
      .describe(
        'The longest an ingest may go without a new frame before it is restarted, in seconds (a camera with frequent frames is judged sooner, by its own interval).',
      ),
    backoff: BackoffSection,
    maxRestartsPerMinute: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(20)
      .describe('At most this many restarts of one camera in any 60 s; further restarts wait.'),
    h265Live: H265LiveSection,
  })
  .prefault({})
  .describe('Pulling camera streams.');

const SharedEncoderSection = z
  .strictObject({
    encoder: nonEmpty()
      .default('auto')
      .describe('ffmpeg H.264 encoder of the masked shared tier: auto (a usable hardware encoder, else libx264), libx264, h264_nvenc, …'),
    preset: sharedEncoderFields.preset.default('veryfast').describe("libx264's speed preset (hardware encoders use their own default)."),
    maxBitrateKbps: sharedEncoderFields.maxBitrateKbps.default(2000).describe('Bitrate cap, in kbit/s.'),
    gopSeconds: sharedEncoderFields.gopSeconds
      .default(1)
      .describe(`Keyframe interval, in seconds (at most ${SHARED_ENCODER_LIMITS.maxGopSeconds}).`),
    maxHeight: sharedEncoderFields.maxHeight
      .optional()
      .describe('Frames taller than this are scaled down (aspect kept); unset keeps the camera resolution.'),
  })
  .prefault({})
  .describe(
    'Default encoder of the shared tier of cameras with privacy masks (the raw tier stays original); cameras may override preset, bitrate, GOP and height.',
  );

const PrivacySection = z
  .strictObject({
    sharedEncoder: SharedEncoderSection,
  })
  .prefault({})
  .describe('Privacy masking (desensitization) of the shared tier.');

const PlatformSection = z
  .strictObject({
    pushTargets: z
      .array(nonEmpty())
      .default([])
      .describe('rtmp://, rtmps:// or rtsp:// URLs the shared (desensitized) stream of every camera is pushed to.'),
  })
  .prefault({})
  .describe('Upstream sharing platform (共享平台).');

/** One upper GB/T 28181 platform (上级平台) the gateway registers with as a lower platform. */
export const Gb28181PlatformEntry = z.strictObject({
  kind: z.literal('gb28181').default('gb28181').describe('Protocol of the link; only gb28181 today.'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'use letters, digits, - and _ (it names metrics and the password variable)')
    .describe('Short name: the API id, the metrics label and PSVGW_PLATFORM_<NAME>_PASSWORD.'),
  serverId: z
    .string()
    .regex(/^\d{20}$/, "must be the platform's 20-digit SIP server ID")
    .describe("The upper platform's SIP server ID."),
  serverDomain: z
    .string()
    .regex(/^\d{10}$/, 'must be the 10-digit SIP domain')
    .describe("The upper platform's SIP domain."),
  host: nonEmpty().describe("Address of the upper platform's SIP server."),
  port: z.number().int().min(1).max(65535).default(5060).describe('Its SIP port.'),
  transport: z.enum(['udp', 'tcp']).default('udp').describe('SIP transport to the platform.'),
  deviceId: z
    .string()
    .regex(/^\d{20}$/, "must be the gateway's 20-digit ID the platform assigned")
    .describe("The gateway's own ID at this platform."),
  username: z.string().optional().describe('Digest username when the platform wants one other than deviceId.'),
  password: z.string().optional().describe('Digest password; in production set PSVGW_PLATFORM_<NAME>_PASSWORD instead.'),
  cameraIds: z
    .union([z.literal('all'), z.array(nonEmpty())])
    .default('all')
    .describe('Cameras shared with this platform: all, or a list of camera IDs.'),
  keepaliveSeconds: z.number().min(1).max(3600).default(60).describe('Keepalive MESSAGE interval; 3 misses mark the link down.'),
  registerExpiresSeconds: z.number().int().min(10).max(86400).default(3600).describe('REGISTER Expires; refreshed before it runs out.'),
  catalogItemsPerMessage: z.number().int().min(1).max(100).optional().describe('Most catalog items per MESSAGE (default: as many as fit).'),
});

/**
 * GB/T 28181 cascade. The issue names the list `platforms:` and the port `platforms.sipPort`;
 * one key cannot be both a list and an object, so both live under `gb28181:`.
 */
const Gb28181Section = z
  .strictObject({
    sipPort: z.number().int().min(1).max(65535).default(5060).describe('Local SIP port, UDP and TCP (env PSVGW_SIP_PORT).'),
    sipHost: nonEmpty().default('0.0.0.0').describe('Local address the SIP port binds to.'),
    advertisedHost: z
      .string()
      .optional()
      .describe('Address put in Via/Contact for platforms to reach the gateway (default: sipHost, or 127.0.0.1).'),
    platforms: z.array(Gb28181PlatformEntry).default([]).describe('Upper platforms to register with.'),
  })
  .prefault({})
  .describe('GB/T 28181 lower-platform signalling (registration, keepalive, catalog).');

export type Gb28181PlatformConfig = z.output<typeof Gb28181PlatformEntry>;

const OnvifSection = z
  .strictObject({
    discoveryTimeoutSeconds: z
      .number()
      .min(0.5)
      .max(60)
      .default(3)
      .describe('How long a WS-Discovery probe listens for answers, in seconds.'),
    probeRepeats: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(2)
      .describe('WS-Discovery probes per sweep (UDP may lose one); answers are merged.'),
    interface: nonEmpty().optional().describe('Network interface to probe from, e.g. eth1; default: the one of the default route.'),
    probeAddresses: z
      .array(nonEmpty())
      .default([])
      .describe('HOST[:PORT] targets probed directly instead of multicast 239.255.255.250:3702 (subnets behind routers).'),
    requestTimeoutSeconds: z.number().min(1).max(60).default(5).describe('Time limit of one ONVIF SOAP request, in seconds.'),
    maxClockDriftSeconds: z
      .number()
      .min(0)
      .max(86_400)
      .default(30)
      .describe('Onboarding refuses a camera whose clock is off by more than this, in seconds.'),
    clockCheckIntervalSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(600)
      .describe(
        'How often the clock of each camera onboarded through ONVIF is read (drift: diagnostics.maxClockDriftSeconds), in seconds; 0 = never.',
      ),
    rediscoveryIntervalSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(0)
      .describe('Periodic discovery sweep flagging vanished, moved and unregistered devices, in seconds; 0 = off.'),
  })
  .prefault({})
  .describe('ONVIF discovery and onboarding.');

const WebhookTarget = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, dots, dashes or underscores' })
      .optional()
      .describe('Stable name of the target (its deliveries are queued under it); the URL without its query when unset.'),
    url: z
      .string()
      .regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL' })
      .describe('Where alerts are POSTed as JSON.'),
    secret: nonEmpty().optional().describe('HMAC-SHA256 key that signs each body (header X-Psvgw-Signature); never logged.'),
    timeoutMs: z.number().int().min(100).max(60000).default(5000).describe('One delivery attempt gives up after this long.'),
  })
  .describe('One webhook receiver.');

const AlertsSection = z
  .strictObject({
    webhooks: z.array(WebhookTarget).default([]).describe('Webhook receivers of every incident firing and resolving.'),
    webhookUrl: z
      .string()
      .regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL' })
      .optional()
      .describe('A single extra webhook receiver; usually from PSVGW_ALERT_WEBHOOK_URL.'),
    webhookSecret: nonEmpty().optional().describe('Signing key of webhookUrl; usually from PSVGW_ALERT_WEBHOOK_SECRET.'),
    retry: z
      .strictObject({
        initialMs: z.number().int().min(10).default(1000).describe('First retry delay of a failed delivery, in milliseconds.'),
        maxMs: z
          .number()
          .int()
          .min(10)
          .default(60000)
          .describe('Longest retry delay, in milliseconds; deliveries are retried until they succeed.'),
      })
      .prefault({})
      .describe('Retries of deliveries, from the outbox kept in the store.'),
    maxRejections: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(8)
      .describe(
        'Times a receiver may refuse an alert (HTTP 4xx other than 408/429) before it becomes a dead letter; a refused alert never holds up the next ones.',
      ),
    outboxRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(30)
      .describe('Days delivered alerts and dead letters stay in the outbox before they are pruned.'),
  })
  .prefault({})
  .describe('Alerts: incidents (camera down, shared tier dark, …) sent to webhooks on firing and on resolving.');

const RecordingSection = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Record every camera's original stream continuously."),
    dir: nonEmpty().optional().describe('Directory of the recordings; <dataDir>/recordings when unset.'),
    segmentSeconds: z.number().int().min(2).max(600).default(60).describe('Length of a recorded segment, in seconds.'),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe("Days footage is kept; the profile's minimum retention when unset. A value below that minimum is refused."),
    perCamera: z
      .array(
        z.strictObject({
          cameraId: nonEmpty().describe('The camera ID (20 digits).'),
          retentionDays: z.number().int().min(1).max(3650).describe("Days this camera's footage is kept."),
        }),
      )
      .default([])
      .describe("Per-camera retention; each must also be at least the profile's minimum."),
    checkpointSeconds: z
      .number()
      .int()
      .min(5)
      .max(86400)
      .default(300)
      .describe("Seconds between signed checkpoints of each camera's hash chain head."),
    sweepSeconds: z.number().int().min(1).max(86400).default(600).describe('Seconds between retention sweeps.'),
    clockJumpToleranceSeconds: z
      .number()
      .int()
      .min(1)
      .max(86400)
      .default(300)
      .describe(
        'Seconds the wall clock may run ahead of the monotonic clock between two retention sweeps; beyond that the sweeper stops deleting (clock_jump) until an operator confirms the time.',
      ),
    minFreeMB: z
      .number()
      .int()
      .min(0)
      .default(512)
      .describe('Below this much free space the disk counts as full: a critical incident, and no new segments are written.'),
    diskCheckSeconds: z.number().int().min(1).max(3600).default(10).describe('Seconds between disk space checks.'),
    trustedKeys: z
      .array(
        z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a key fingerprint: SHA256: and 43 base64 characters, as `psvgw verify` prints it'),
      )
      .default([])
      .describe(
        'Fingerprints of the signing keys psvgw verify trusts (keys they handed over to by rotation count too); empty: the key in the data directory, unpinned.',
      ),
    witnessDir: nonEmpty()
      .optional()
      .describe('Directory, ideally on another volume, that gets every signed checkpoint as an fsynced JSON line (one file per camera).'),
    signingKeyFile: nonEmpty()
      .optional()
      .describe(
        'PEM of the Ed25519 checkpoint signing key, e.g. off the data volume (PSVGW_SIGNING_KEY_FILE); unset: <dataDir>/keys. In production it must exist.',
      ),
  })
  .prefault({})
  .describe('Continuous recording, retention and integrity of the original streams.');

const LoggingSection = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').describe('Lowest level logged.'),
    format: z
      .enum(['auto', 'json', 'pretty'])
      .default('auto')
      .describe('json: one JSON object a line (for collectors); pretty: readable lines; auto: pretty on a terminal, else json.'),
  })
  .prefault({})
  .describe('Logging.');

const ClusterSection = z
  .strictObject({
    nodeName: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
        error: 'must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit (like a host name label)',
      })
      .optional()
      .describe(
        "This node's name in the cluster (PSVGW_NODE_NAME); unset: the host name, lower-cased. Nodes sharing a PostgreSQL store form a cluster.",
      ),
    apiUrl: z
      .string()
      .regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL' })
      .optional()
      .describe(
        "Where the other nodes reach this node's API (PSVGW_NODE_API_URL), e.g. http://gw-1:8080: they fetch the recordings this node holds through it. Unset: http://<http.host>:<http.port> (0.0.0.0 as 127.0.0.1).",
      ),
    weight: z
      .number()
      .positive()
      .max(100)
      .default(1)
      .describe('Relative capacity of this node: its share of the cameras is weighted by it.'),
    heartbeatSeconds: z
      .number()
      .min(0.2)
      .max(30)
      .default(1)
      .describe('How often the node beats, renews its camera leases and reconsiders the placement.'),
    leaseSeconds: z
      .number()
      .min(2)
      .max(300)
      .default(6)
      .describe("How long a camera lease outlives the last renewal: a silent node's cameras move after about this long."),
    databaseOutageMaxSeconds: z
      .number()
      .min(0)
      .max(86_400)
      .default(300)
      .describe(
        'While PostgreSQL cannot be reached, the cameras keep recording and their index writes wait, for up to this long; then they stop. 0: stop after the lease time as for a lost lease.',
      ),
  })
  .prefault({})
  .describe('Cluster mode (PostgreSQL store only): camera leases between gateway nodes sharing one database.');

const SecretsSection = z
  .strictObject({
    adminToken: nonEmpty().optional().describe('Bearer token of the administrator; only from PSVGW_ADMIN_TOKEN.'),
    secretKey: nonEmpty().optional().describe('Key that encrypts camera credentials at rest; only from PSVGW_SECRET_KEY.'),
  })
  .prefault({})
  .describe('Secrets, filled only from environment variables, never from the config file.');

const ratio = (def: number, what: string) => z.number().min(0).max(1).default(def).describe(what);
const luma = (def: number, what: string) => z.number().min(0).max(255).default(def).describe(what);

export const DiagnosticsThresholdsSection = z
  .strictObject({
    blackMaxStddev: luma(2, 'Black or blank image: luma spread (standard deviation) below this.'),
    frozenMaxMotion: ratio(0.0005, 'Frozen image: at most this share of pixels changes between samples.'),
    blurMaxSharpnessRatio: ratio(0.4, "Blurred: sharpness below this share of the camera's learned baseline."),
    coveredMaxSharpnessRatio: ratio(0.3, 'Covered lens: sharpness below this share of the baseline ...'),
    coveredMaxStddev: luma(20, '... and luma spread below this ...'),
    coveredMaxMean: luma(80, '... and mean luma below this.'),
    sceneMinSimilarity: z
      .number()
      .min(-1)
      .max(1)
      .default(0.5)
      .describe('Scene changed (camera turned): similarity of the view to the reference below this (1 = same view).'),
    tooDarkMaxMean: luma(35, 'Too dark: mean luma below this while the picture still shows detail.'),
  })
  .prefault({})
  .describe('Limits of the image checks; a camera may override them (PUT /api/v1/cameras/:id/diagnostics/thresholds).');

const DiagnosticsSection = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Sample every live camera and check its image.'),
    sampleFps: z.number().min(0.2).max(5).default(2).describe('Samples per second taken from the raw tier.'),
    width: z.number().int().min(32).max(640).default(160).describe('Width of a sample, in pixels.'),
    height: z.number().int().min(18).max(360).default(90).describe('Height of a sample, in pixels.'),
    learnSeconds: z
      .number()
      .min(1)
      .max(3600)
      .default(10)
      .describe("Seconds of healthy picture that teach a camera's baseline and reference view."),
    fireAfterSeconds: z.number().min(0.5).max(3600).default(5).describe('A condition must hold this long before its incident fires.'),
    frozenAfterSeconds: z
      .number()
      .min(1)
      .max(3600)
      .default(20)
      .describe('A frozen image must last this long (a still scene can look frozen for a while).'),
    clearAfterSeconds: z
      .number()
      .min(0.5)
      .max(3600)
      .default(5)
      .describe('A condition must be gone this long before its incident resolves.'),
    thresholds: DiagnosticsThresholdsSection,
    maxClockDriftSeconds: z
      .number()
      .gt(0)
      .max(86400)
      .default(5)
      .describe("A camera clock further than this from the gateway's raises clock_drift."),
    ntpCheckSeconds: z.number().int().min(5).max(86400).default(60).describe("How often the gateway's own NTP sync state is read."),
  })
  .prefault({})
  .describe('Video-quality diagnostics (black, frozen, blurred, covered, turned away, too dark) and clock checks.');

const seconds = (min: number, max: number, def: number, what: string) => z.number().int().min(min).max(max).default(def).describe(what);

const LockoutSection = z
  .strictObject({
    userFailures: seconds(1, 1000, 5, 'Failed logins of one username before it is locked.'),
    addressFailures: seconds(1, 10000, 20, 'Failed logins from one source address before it is locked.'),
    baseSeconds: seconds(1, 86400, 30, 'First lock, in seconds; each further failure doubles it.'),
    maxSeconds: seconds(1, 86400, 900, 'Longest lock, in seconds.'),
  })
  .prefault({})
  .describe('Lockout with backoff after repeated failed logins, per username and per source address (reset by a successful login).');

const AuthSection = z
  .strictObject({
    sessionSeconds: seconds(1, 86400, 900, 'Lifetime of a session token from login or refresh, in seconds (default 15 minutes).'),
    refreshSeconds: seconds(60, 30 * 86400, 12 * 3600, 'Lifetime of a refresh token, in seconds; each refresh replaces it.'),
    signingKeyRotationSeconds: seconds(
      60,
      90 * 86400,
      86400,
      'Age at which the key that signs session tokens is replaced; the old key verifies until its tokens have expired.',
    ),
    lockout: LockoutSection,
    pendingChangeDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(7)
      .describe('Days a change that weakens protection (four eyes) waits for a second admin before it expires.'),
  })
  .prefault({})
  .describe('Logins, session tokens and lockout.');

/** The shape without cross-field rules (the rules need every field valid first). */
export const GatewayConfigShape = z.strictObject({
  mode: z
    .enum(['development', 'production'])
    .default('development')
    .describe('development, or production, which refuses to start without strong secrets.'),
  profile: z
    .enum(PROFILE_NAMES)
    .default('strict')
    .describe('Jurisdiction profile (config/profiles.ts); strict takes the strictest rule of all five regulations.'),
  dataDir: nonEmpty().default('./data').describe('Directory for recordings and the database, relative to the working directory.'),
  gateway: GatewaySection,
  http: HttpSection,
  media: MediaSection,
  store: StoreSection,
  ffmpeg: FfmpegSection,
  ingest: IngestSection,
  privacy: PrivacySection,
  platform: PlatformSection,
  gb28181: Gb28181Section,
  onvif: OnvifSection,
  alerts: AlertsSection,
  diagnostics: DiagnosticsSection,
  recording: RecordingSection,
  logging: LoggingSection,
  auth: AuthSection,
  secrets: SecretsSection,
  cluster: ClusterSection,
});

export type GatewayConfig = z.output<typeof GatewayConfigShape>;
export type GatewayConfigInput = z.input<typeof GatewayConfigShape>;

/** A cross-field problem, at the key a user should change. */
export interface RuleIssue {
  path: (string | number)[];
  message: string;
}
export type ConfigRule = (config: GatewayConfig) => RuleIssue[];

export const MIN_SECRET_KEY_LENGTH = 32;
export const MIN_ADMIN_TOKEN_LENGTH = 24;
export const PUSH_SCHEMES: readonly string[] = ['rtmp:', 'rtmps:', 'rtsp:'];

export function postgresNeedsUrl(c: GatewayConfig): RuleIssue[] {
  if (c.store.driver !== 'postgres' || c.store.postgresUrl !== undefined) return [];
  return [{ path: ['store', 'postgresUrl'], message: 'is required when store.driver is postgres' }];
}

/** Each listener needs its own port; the later key of a clash is the one reported. */
export function portsDistinct(c: GatewayConfig): RuleIssue[] {
  const ports: [string[], number][] = [
    [['http', 'port'], c.http.port],
    [['media', 'rtmpPort'], c.media.rtmpPort],
    [['media', 'httpPort'], c.media.httpPort],
  ];
  const issues: RuleIssue[] = [];
  ports.forEach(([path, value], i) => {
    const earlier = ports.slice(0, i).find(([, v]) => v === value);
    if (earlier) issues.push({ path, message: `${value} is already used by ${earlier[0].join('.')}; ports must differ` });
  });
  return issues;
}

/** Too few distinct characters betrays a placeholder such as "aaaa…" or "changeme…". */
function weakSecret(value: string | undefined, minLength: number): string | undefined {
  if (value === undefined) return 'is not set';
  if (value.length < minLength) return `is only ${value.length} characters long; at least ${minLength} are needed`;
  if (new Set(value).size < 8) return 'has too few distinct characters to be a real secret';
  return undefined;
}

/** No default or missing passwords in production. */
export function productionNeedsSecrets(c: GatewayConfig): RuleIssue[] {
  if (c.mode !== 'production') return [];
  const issues: RuleIssue[] = [];
  const key = weakSecret(c.secrets.secretKey, MIN_SECRET_KEY_LENGTH);
  if (key) {
    issues.push({
      path: ['secrets', 'secretKey'],
      message: `${key} (production); set PSVGW_SECRET_KEY to a random value, e.g. \`openssl rand -base64 48\``,
    });
  }
  const token = weakSecret(c.secrets.adminToken, MIN_ADMIN_TOKEN_LENGTH);
  if (token) {
    issues.push({
      path: ['secrets', 'adminToken'],
      message: `${token} (production); set PSVGW_ADMIN_TOKEN to a random value, e.g. \`openssl rand -hex 24\``,
    });
  }
  return issues;
}

export function pushTargetsHaveSupportedScheme(c: GatewayConfig): RuleIssue[] {
  return c.platform.pushTargets.flatMap((target, i): RuleIssue[] => {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return [{ path: ['platform', 'pushTargets', i], message: 'is not a valid URL' }];
    }
    if (PUSH_SCHEMES.includes(url.protocol) && url.hostname !== '') return [];
    return [
      {
        path: ['platform', 'pushTargets', i],
        message: `must be an rtmp://, rtmps:// or rtsp:// URL with a host (got scheme '${url.protocol}')`,
      },
    ];
  });
}

export function backoffMaxNotBelowInitial(c: GatewayConfig): RuleIssue[] {
  const { initialMs, maxMs } = c.ingest.backoff;
  if (maxMs >= initialMs) return [];
  return [{ path: ['ingest', 'backoff', 'maxMs'], message: `must be ≥ ingest.backoff.initialMs (${initialMs})` }];
}

export function alertRetryMaxNotBelowInitial(c: GatewayConfig): RuleIssue[] {
  const { initialMs, maxMs } = c.alerts.retry;
  if (maxMs >= initialMs) return [];
  return [{ path: ['alerts', 'retry', 'maxMs'], message: `must be ≥ alerts.retry.initialMs (${initialMs})` }];
}

/** Retention may be longer than the profile's minimum (信息资料存储期), never shorter. */
export function retentionNotBelowProfileMinimum(c: GatewayConfig): RuleIssue[] {
  const minimum = PROFILES[c.profile].retentionDays.value;
  if (minimum === null) return [];
  const source = PROFILES[c.profile].retentionDays.source;
  const issues: RuleIssue[] = [];
  const tooShort = (days: number) => `${days} days is below the ${c.profile} profile's minimum retention of ${minimum} days (${source})`;
  if (c.recording.retentionDays !== undefined && c.recording.retentionDays < minimum)
    issues.push({ path: ['recording', 'retentionDays'], message: tooShort(c.recording.retentionDays) });
  c.recording.perCamera.forEach(({ retentionDays }, i) => {
    if (retentionDays < minimum) issues.push({ path: ['recording', 'perCamera', i, 'retentionDays'], message: tooShort(retentionDays) });
  });
  return issues;
}

/** The environment variable holding a GB/T 28181 platform's password. */
export function platformPasswordEnv(name: string): string {
  return `PSVGW_PLATFORM_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;
}

/** Platform names are their API ids and metric labels: unique. In production passwords come only from the environment. */
export function gb28181PlatformsSound(c: GatewayConfig): RuleIssue[] {
  return c.gb28181.platforms.flatMap((p, i): RuleIssue[] => {
    const issues: RuleIssue[] = [];
    if (c.gb28181.platforms.findIndex((q) => q.name === p.name) !== i)
      issues.push({ path: ['gb28181', 'platforms', i, 'name'], message: `${p.name} is used twice; give each platform its own name` });
    if (c.mode === 'production' && p.password !== undefined) {
      const env = platformPasswordEnv(p.name);
      issues.push({
        path: ['gb28181', 'platforms', i, 'password'],
        message: `not allowed in the config file in production; set ${env} instead`,
      });
    }
    return issues;
  });
}

/** A lease must outlive a few missed beats and leave time to stop the cameras (docs/cluster.md). */
export function leaseOutlivesHeartbeats(c: GatewayConfig): RuleIssue[] {
  if (c.cluster.leaseSeconds >= 3 * c.cluster.heartbeatSeconds + 1) return [];
  return [
    {
      path: ['cluster', 'leaseSeconds'],
      message: `must be at least 3 heartbeats plus 1 s (${3 * c.cluster.heartbeatSeconds + 1} s with heartbeatSeconds ${c.cluster.heartbeatSeconds}); raise it or lower cluster.heartbeatSeconds`,
    },
  ];
}

export const CONFIG_RULES: Readonly<Record<string, ConfigRule>> = {
  gb28181PlatformsSound,
  postgresNeedsUrl,
  alertRetryMaxNotBelowInitial,
  portsDistinct,
  productionNeedsSecrets,
  pushTargetsHaveSupportedScheme,
  backoffMaxNotBelowInitial,
  retentionNotBelowProfileMinimum,
  leaseOutlivesHeartbeats,
};

/** Every cross-field problem of an otherwise valid config. */
export function checkConfigRules(c: GatewayConfig): RuleIssue[] {
  return Object.values(CONFIG_RULES).flatMap((rule) => rule(c));
}

export const GatewayConfigSchema = GatewayConfigShape.superRefine((c, ctx) => {
  for (const issue of checkConfigRules(c)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

/** JSON Schema of the config file (editors, `psvgw config schema`); secrets are env-only and left out. */
export function gatewayConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(GatewayConfigShape.omit({ secrets: true }), { io: 'input' }) as Record<string, unknown>;
}
