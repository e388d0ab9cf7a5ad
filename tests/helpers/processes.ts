import { readdirSync, readFileSync } from 'node:fs';

/** A live process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  argv: string[];
}

function parentOf(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return ppid === undefined ? null : Number(ppid);
  } catch {
    return null; // exited meanwhile
  }
}

export function argvOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

/** Every descendant of `root` alive now (children, their children…), with its argv. */
export function descendants(root: number): ProcInfo[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.exec(entry) === null) continue; // only the numbered entries are processes
    const ppid = parentOf(entry);
    if (ppid !== null) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: ProcInfo[] = [];
  const queue = [...(children.get(root) ?? [])];
  // The scan is not atomic and PIDs are reused quickly (pid_max is often 32768 and the tests
  // spawn thousands of processes): a stale read can lead back to the root or a PID seen already.
  const seen = new Set<number>([root]);
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const argv = argvOf(pid);
    if (argv !== null) out.push({ pid, argv });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The names of a process's environment variables (with values); null once it has exited. */
export function environOf(pid: number): Map<string, string> | null {
  try {
    const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
    const env = new Map<string, string>();
    for (const entry of raw.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return env;
  } catch {
    return null;
  }
}
