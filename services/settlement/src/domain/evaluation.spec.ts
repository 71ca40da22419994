import { uuidv7 } from '@vtv/kit';
import { decideLines, evaluateLines, type LineEvidence, type ReviewableLine } from './evaluation';

const institutionId = uuidv7();
const classId = uuidv7();
const ctx = { institutionId, classId, minAttendanceBp: 8000, standardFen: 200_000n };

function clean(over: Partial<LineEvidence> = {}): LineEvidence {
  const personId = over.personId ?? uuidv7();
  return {
    lineId: uuidv7(),
    personId,
    voucherId: uuidv7(),
    voucherState: 'USED',
    holderPersonId: personId,
    functionMode: 'FACE_VALUE',
    faceValueFen: 150_000n,
    usedAtInstitutionId: institutionId,
    usedForClassId: classId,
    usedAt: new Date(),
    attendanceRateBp: 9000,
    passed: true,
    completedAt: new Date(),
    certificateIds: [],
    settledElsewhere: false,
    otherApplicationId: null,
    ...over,
  };
}

const codes = (l: LineEvidence, c = ctx) => evaluateLines([l], c)[0]!.anomalies.map((a) => a.code);

describe('evaluateLines', () => {
  it('passes a clean line with the amount rule applied', () => {
    const [r] = evaluateLines([clean()], ctx);
    expect(r).toMatchObject({ anomalies: [], amountFen: 150_000n, standardFen: 200_000n });
    expect(evaluateLines([clean({ faceValueFen: 500_000n })], ctx)[0]!.amountFen).toBe(200_000n);
    expect(evaluateLines([clean({ functionMode: 'DEDUCTION', faceValueFen: 0n })], ctx)[0]!.amountFen).toBe(
      200_000n,
    );
  });

  it('flags vouchers not used at this institution, unknown, settled or held by someone else', () => {
    expect(codes(clean({ usedAtInstitutionId: uuidv7() }))).toEqual(['VOUCHER_NOT_USED_AT_INSTITUTION']);
    expect(codes(clean({ voucherState: 'HELD' }))).toEqual(['VOUCHER_NOT_USED_AT_INSTITUTION']);
    expect(codes(clean({ voucherState: 'INVALIDATED' }))).toEqual(['VOUCHER_NOT_USED_AT_INSTITUTION']);
    expect(
      codes(clean({ voucherState: null, holderPersonId: null, functionMode: null, faceValueFen: null })),
    ).toEqual(['VOUCHER_NOT_USED_AT_INSTITUTION']);
    expect(codes(clean({ voucherState: 'SETTLED' }))).toEqual(['VOUCHER_ALREADY_SETTLED']);
    expect(codes(clean({ settledElsewhere: true }))).toEqual(['VOUCHER_ALREADY_SETTLED']);
    expect(codes(clean({ holderPersonId: uuidv7() }))).toEqual(['VOUCHER_NOT_HELD_BY_TRAINEE']);
    expect(codes(clean({ usedForClassId: uuidv7() }))).toEqual(['VOUCHER_USED_FOR_OTHER_CLASS']);
  });

  it('flags failed trainees, missing results and attendance below the threshold', () => {
    expect(codes(clean({ passed: false }))).toEqual(['TRAINEE_FAILED']);
    expect(codes(clean({ passed: null }))).toEqual(['NO_COMPLETION_RESULT']);
    expect(codes(clean({ attendanceRateBp: 7999 }))).toEqual(['LOW_ATTENDANCE']);
    expect(codes(clean({ attendanceRateBp: 8000 }))).toEqual([]);
    expect(codes(clean({ attendanceRateBp: null }))).toEqual(['LOW_ATTENDANCE']);
    expect(evaluateLines([clean({ attendanceRateBp: 7500 })], ctx)[0]!.anomalies[0]!.message).toMatch(
      /75\.00 % is below the threshold of 80\.00 %/,
    );
    expect(codes(clean({ attendanceRateBp: 7500 }), { ...ctx, minAttendanceBp: 7000 })).toEqual([]);
  });

  it('flags a person twice in the application and in another application of the class', () => {
    const personId = uuidv7();
    const r = evaluateLines([clean({ personId }), clean({ personId }), clean()], ctx);
    expect(r.map((x) => x.anomalies.map((a) => a.code))).toEqual([
      ['DUPLICATE_PERSON'],
      ['DUPLICATE_PERSON'],
      [],
    ]);
    const other = uuidv7();
    expect(evaluateLines([clean({ otherApplicationId: other })], ctx)[0]!.anomalies[0]!.message).toContain(
      other,
    );
  });

  it('flags a missing standard or a zero face value as unpayable', () => {
    const none = evaluateLines([clean()], { ...ctx, standardFen: null })[0]!;
    expect(none.anomalies).toEqual([
      expect.objectContaining({ code: 'NO_SUBSIDY_STANDARD', blocking: true }),
    ]);
    expect(none.amountFen).toBe(0n);
    expect(codes(clean({ faceValueFen: 0n }))).toEqual(['NO_SUBSIDY_STANDARD']);
  });
});

describe('decideLines (partial approval)', () => {
  const line = (over: Partial<ReviewableLine> = {}): ReviewableLine => ({
    id: uuidv7(),
    personId: uuidv7(),
    amountFen: 100n,
    anomalies: [],
    firstDecision: null,
    ...over,
  });
  const low = { code: 'LOW_ATTENDANCE' as const, blocking: false, message: 'low' };
  const failed = { code: 'TRAINEE_FAILED' as const, blocking: true, message: 'failed' };

  it('approves clean lines and excludes the listed ones with reasons', () => {
    const a = line();
    const b = line();
    const out = decideLines([a, b], [{ lineId: b.id, approve: false, reason: '材料不全' }]);
    expect(out).toEqual([
      { id: a.id, decision: 'APPROVED', reason: null, approvedAmountFen: 100n },
      { id: b.id, decision: 'EXCLUDED', reason: '材料不全', approvedAmountFen: 0n },
    ]);
  });

  it('requires flagged lines to be decided, and blocking ones to be excluded', () => {
    const flagged = line({ anomalies: [low] });
    expect(() => decideLines([line(), flagged], [])).toThrow(
      expect.objectContaining({ code: 'ANOMALY_UNDECIDED' }),
    );
    expect(
      decideLines([flagged], [{ lineId: flagged.id, approve: true, reason: '病假证明已核' }])[0]!.decision,
    ).toBe('APPROVED');
    const blocked = line({ anomalies: [failed] });
    expect(() =>
      decideLines([line(), blocked], [{ lineId: blocked.id, approve: true, reason: 'x' }]),
    ).toThrow(expect.objectContaining({ code: 'LINE_NOT_PAYABLE' }));
    expect(() =>
      decideLines([line(), flagged], [{ lineId: flagged.id, approve: false, reason: ' ' }]),
    ).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('pays a person at most once and refuses an empty approval', () => {
    const personId = uuidv7();
    const a = line({ personId });
    const b = line({ personId });
    expect(() => decideLines([a, b], [])).toThrow(expect.objectContaining({ code: 'DUPLICATE_PERSON' }));
    const only = line();
    expect(() => decideLines([only], [{ lineId: only.id, approve: false, reason: 'no' }])).toThrow(
      expect.objectContaining({ code: 'NOTHING_APPROVED' }),
    );
    expect(() => decideLines([only], [{ lineId: uuidv7(), approve: false, reason: 'no' }])).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it('lets a second reviewer inherit the first review unless a silently approved line got flagged since', () => {
    const excluded = line({ firstDecision: { approve: false, reason: '重复申报' } });
    const kept = line({ firstDecision: { approve: true, reason: null } });
    const out = decideLines([excluded, kept], []);
    expect(out.map((o) => o.decision)).toEqual(['EXCLUDED', 'APPROVED']);
    const newlyFlagged = line({ anomalies: [low], firstDecision: { approve: true, reason: null } });
    expect(() => decideLines([kept, newlyFlagged], [])).toThrow(
      expect.objectContaining({ code: 'ANOMALY_UNDECIDED' }),
    );
  });
});
