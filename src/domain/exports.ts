/** Export jobs: a clip cut from recordings under an approved `export` request, watermarked and signed. */

export const EXPORT_JOB_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type ExportJobState = (typeof EXPORT_JOB_STATES)[number];

export interface ExportJob {
  id: string;
  requestId: string;
  cameraId: string;
  /** The footage range exported (ISO). */
  from: string;
  to: string;
  /** Who asked for it (the request's filer): the only one who may download it. */
  userId: string;
  username: string;
  state: ExportJobState;
  /** 0..1 while running; 1 when done. */
  progress: number;
  /** File names (no directory) of the finished clip and its signed manifest; null until done. */
  clip: string | null;
  manifest: string | null;
  clipBytes: number | null;
  clipSha256: string | null;
  /** Why it failed; null otherwise. */
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Cluster mode: the node asked for it, which produces the clip and keeps it on its disk (absent: this gateway). */
  node?: string;
}
