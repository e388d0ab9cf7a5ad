/**
 * The access register (访问登记): one row per view, copy, export or platform play of footage,
 * with the fields hubei-2013 Art. 17, qingdao-2020 Art. 23-24, yunnan-2016 Art. 22,
 * guangdong-2025 Art. 18(3) and zhuzhou-2023 12.4 name. Rows are written once, whole, when
 * the retrieval ends; nothing updates or deletes them.
 */
import type { AccessStaff } from './accessRequests.js';

export const REGISTER_METHODS = ['view_live', 'view_recorded', 'copy', 'export', 'platform_play'] as const;
export type RegisterMethod = (typeof REGISTER_METHODS)[number];

/** Who registered a retrieval that ran under no request: the gateway itself. */
export const GATEWAY_RECORDER = 'psv-gateway';

/** 调取人: the user who retrieved (null for a platform push) and the request's staff. */
export interface RegisterRetriever {
  username: string | null;
  displayName: string | null;
  unit: string | null;
  credentialNo: string | null;
  staff: AccessStaff[];
}

export interface RegisterEntry {
  /** Assigned by the store, ascending. */
  id: number;
  method: RegisterMethod;
  tier: 'raw' | 'shared';
  /** 登记人: the approver of the request it ran under, or `psv-gateway` for an exemption, the shared tier or a platform push. */
  recorder: string;
  retriever: RegisterRetriever;
  /** ISO times the retrieval started and ended. */
  startedAt: string;
  endedAt: string;
  purpose: string | null;
  /** Where the footage went: the request's destination, or the platform target's name. */
  destination: string | null;
  cameraIds: string[];
  /** The footage retrieved (ISO): the session's own span for live footage. */
  footageFrom: string;
  footageTo: string;
  bytes: number;
  requestId: string | null;
  /** The article of the profile's exemption it ran under (guangdong-2025 Art. 22), else null. */
  exemption: string | null;
  /** http-flv, ws-flv, rtmp, hls, file… */
  protocol: string | null;
  clientAddress: string | null;
}

export type NewRegisterEntry = Omit<RegisterEntry, 'id'>;
