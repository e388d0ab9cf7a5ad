/**
 * What a child process (ffmpeg, ffprobe, timedatectl…) may see of the gateway's
 * environment. ffmpeg parses untrusted camera streams, so it gets only what it needs to
 * run: the search path, locale and time zone, home and temporary directories, the CA
 * overrides an rtmps push may need, and the device selectors of hardware encoders.
 * Never a PSVGW_* variable: those hold the master secret and the admin token.
 */
const PASSED =
  /^(PATH|LANG|LANGUAGE|LC_[A-Z_]+|TZ|HOME|TMPDIR|SSL_CERT_FILE|SSL_CERT_DIR|LIBVA_DRIVER_NAME|LIBVA_DRIVERS_PATH|CUDA_VISIBLE_DEVICES)$/;

/** The environment every child of the gateway is spawned with (see the module comment). */
export function childEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && PASSED.test(name) && !name.startsWith('PSVGW_')) env[name] = value;
  }
  return env;
}

/**
 * Removes the variables the config was read from (`names`: every PSVGW_* setting, the
 * secrets among them) from the gateway's own environment, so that no child spawned later,
 * by the gateway or by a library that passes its environment on (fluent-ffmpeg does), can
 * inherit one. Returns the names that were set.
 */
export function dropGatewayVariables(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const dropped = names.filter((name) => env[name] !== undefined);
  for (const name of dropped) delete env[name];
  return dropped;
}
