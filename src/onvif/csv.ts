/**
 * Bulk onboarding files: CSV (RFC 4180: quoted fields, doubled quotes, CRLF, a UTF-8
 * BOM as Excel writes it), one device per row, a header naming the columns. Pure.
 */
import { GatewayError } from '../errors.js';

/** Columns a file may have, and the onboarding field each fills (aliases in lower case). */
const COLUMNS: Readonly<Record<string, { field: string; type: 'text' | 'number' | 'flag' }>> = {
  device: { field: 'device', type: 'text' },
  username: { field: 'username', type: 'text' },
  password: { field: 'password', type: 'text' },
  name: { field: 'name', type: 'text' },
  sitetype: { field: 'siteType', type: 'text' },
  site_type: { field: 'siteType', type: 'text' },
  address: { field: 'address', type: 'text' },
  lat: { field: 'lat', type: 'number' },
  lon: { field: 'lon', type: 'number' },
  ownerunit: { field: 'ownerUnit', type: 'text' },
  owner: { field: 'ownerUnit', type: 'text' },
  id: { field: 'id', type: 'text' },
  recordprofile: { field: 'recordProfile', type: 'text' },
  sharedprofile: { field: 'sharedProfile', type: 'text' },
  endpointref: { field: 'endpointRef', type: 'text' },
  governmentfunded: { field: 'governmentFunded', type: 'flag' },
  signageinstalled: { field: 'signageInstalled', type: 'flag' },
  commissionedat: { field: 'commissionedAt', type: 'text' },
};

export interface OnboardRow {
  /** 1-based line number of the row in the file (the header is line 1). */
  line: number;
  request: Record<string, unknown>;
  /** Set when the row itself is malformed; such a row is reported, not sent. */
  problem?: string;
}

/** Rows of fields. Throws VALIDATION_FAILED on an unterminated quote. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted)
    throw new GatewayError('VALIDATION_FAILED', 'the CSV file ends inside a quoted field', {
      hint: 'Close every opening " with a matching ".',
    });
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

/** One onboarding request per data row; `defaults` fill cells the file leaves empty (e.g. a shared password). */
export function onboardRowsFromCsv(text: string, defaults: Record<string, string> = {}): OnboardRow[] {
  const [header, ...data] = parseCsv(text);
  if (header === undefined)
    throw new GatewayError('VALIDATION_FAILED', 'the CSV file is empty', { hint: 'Write a header row, then one row per device.' });
  const columns = header.map((h) => COLUMNS[h.trim().toLowerCase()]);
  const unknown = header.filter((_, i) => columns[i] === undefined);
  if (unknown.length > 0) {
    throw new GatewayError('VALIDATION_FAILED', `unknown CSV column(s): ${unknown.join(', ')}`, {
      hint: `Known columns: ${[...new Set(Object.values(COLUMNS).map((c) => c.field))].join(', ')}.`,
    });
  }
  if (!columns.some((c) => c?.field === 'device')) {
    throw new GatewayError('VALIDATION_FAILED', 'the CSV file has no "device" column', {
      hint: 'Name each camera by address in a column headed device.',
    });
  }
  return data.map((cells, i) => {
    const line = i + 2;
    const request: Record<string, unknown> = { ...defaults };
    const problems: string[] = [];
    columns.forEach((col, j) => {
      const cell = (cells[j] ?? '').trim();
      if (col === undefined || cell === '') return;
      if (col.type === 'number') {
        const n = Number(cell);
        if (Number.isFinite(n)) request[col.field] = n;
        else problems.push(`${col.field} "${cell}" is not a number`);
      } else if (col.type === 'flag') {
        const v = flag(cell);
        if (v === undefined) problems.push(`${col.field} "${cell}" is not yes/no`);
        else request[col.field] = v;
      } else request[col.field] = cell;
    });
    if (cells.length > header.length) problems.push(`has ${cells.length} fields, the header ${header.length}`);
    return problems.length > 0 ? { line, request, problem: problems.join('; ') } : { line, request };
  });
}

function flag(cell: string): boolean | undefined {
  const v = cell.toLowerCase();
  if (['true', 'yes', 'y', '1', '是'].includes(v)) return true;
  if (['false', 'no', 'n', '0', '否'].includes(v)) return false;
  return undefined;
}
