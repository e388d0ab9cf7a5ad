import { describe, expect, it } from 'vitest';
import { validateDecision, validatePublicRequest, validateResult } from '../../../src/access/publicRequestInput.js';
import { GatewayError } from '../../../src/errors.js';

const ID_NUMBER = '430202198001011234';

const complete = {
  category: 'missing_person',
  applicant: {
    name: 'Wang Fang',
    contact: '+86 731 5550 1234',
    relationship: 'daughter',
    idDocument: { type: 'resident_id', number: ID_NUMBER },
  },
  reason: 'Her father (78, dementia) left home at 07:30 and was last seen near the south gate.',
  cameraIds: ['cam-1', 'cam-1', 'cam-2'],
  from: '2026-05-01T07:00:00+08:00',
  to: '2026-05-01T10:00:00+08:00',
};

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('VALIDATION_FAILED');
    return err as GatewayError;
  }
  throw new Error('expected a refusal');
}

describe('public request intake', () => {
  it('accepts a complete request, trimming and de-duplicating cameras', () => {
    const input = validatePublicRequest({ ...complete, reason: `  ${complete.reason}  ` });
    expect(input.cameraIds).toEqual(['cam-1', 'cam-2']);
    expect(input.reason).toBe(complete.reason);
    expect(input.fromMs).toBe(Date.parse(complete.from));
    expect(input.applicant.idDocument).toEqual({ type: 'resident_id', number: ID_NUMBER });
  });

  it('names every missing field at once, with the rule of each category', () => {
    const err = refusal(() => validatePublicRequest({ category: 'curiosity', applicant: { name: 'x' }, from: 'yesterday' }));
    for (const named of [
      'category must be one of missing_person (zhuzhou-2023 Art. 14), own_rights (yunnan-2016 Art. 16',
      'applicant.contact',
      'applicant.relationship',
      'applicant.idDocument',
      'reason',
      'cameraIds',
      'from must be an ISO 8601 time',
      'to must be an ISO 8601 time',
    ]) {
      expect(err.message).toContain(named);
    }
    expect(err.message).not.toContain('applicant.name');
  });

  it('refuses a range that ends before it starts', () => {
    expect(refusal(() => validatePublicRequest({ ...complete, to: complete.from })).message).toContain('to must be after from');
  });

  it('never echoes the identity document number', () => {
    const err = refusal(() => validatePublicRequest({ ...complete, applicant: { ...complete.applicant, contact: '' } }));
    expect(err.message).toContain('applicant.contact');
    expect(JSON.stringify({ message: err.message, hint: err.hint, details: err.details })).not.toContain(ID_NUMBER);
  });
});

describe('public request decision and result', () => {
  it('release needs the export access request; refuse and refer take none', () => {
    expect(validateDecision({ decision: 'release', reason: 'guardian verified', accessRequestId: ' ar-1 ' })).toEqual({
      decision: 'release',
      reason: 'guardian verified',
      accessRequestId: 'ar-1',
    });
    expect(refusal(() => validateDecision({ decision: 'release', reason: 'ok' })).message).toContain(
      'accessRequestId is required for release',
    );
    expect(refusal(() => validateDecision({ decision: 'refuse', reason: 'no', accessRequestId: 'ar-1' })).message).toContain(
      'accessRequestId goes only with decision release',
    );
    expect(validateDecision({ decision: 'refer', reason: 'to the traffic police' }).accessRequestId).toBeNull();
    const err = refusal(() => validateDecision({ decision: 'maybe' }));
    expect(err.message).toContain('decision must be one of release, refuse, refer');
    expect(err.message).toContain('reason must be');
  });

  it('handed_over only follows a release; notes are required', () => {
    expect(validateResult({ result: 'handed_over', notes: 'clip given on USB' }, 'release')).toEqual({
      result: 'handed_over',
      notes: 'clip given on USB',
    });
    expect(refusal(() => validateResult({ result: 'handed_over', notes: 'x' }, 'refuse')).message).toContain('needs the decision release');
    expect(refusal(() => validateResult({ result: 'informed' }, 'refuse')).message).toContain('notes must be');
  });
});
