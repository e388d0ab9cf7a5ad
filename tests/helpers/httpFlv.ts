/** GET an HTTP-FLV URL and read just the status and the first bytes of the body (a refusal's reason, or the FLV header). */
export async function httpFlvStart(url: string, headBytes = 200): Promise<{ status: number; head: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  try {
    const res = await fetch(url, { signal: abort.signal });
    const first = await res.body!.getReader().read();
    abort.abort();
    return { status: res.status, head: first.value ? Buffer.from(first.value).subarray(0, headBytes).toString('latin1') : '' };
  } finally {
    clearTimeout(timer);
  }
}
