import type { outboxRow } from '@vtv/events';
import type { DataSource, EntityManager } from 'typeorm';
import {
  VoucherRow,
  VoucherTransitionRow,
  type ActorKind,
  type BusinessMode,
  type FunctionMode,
  type UseChannel,
  type VoucherKind,
  type VoucherState,
} from './entities';
import { hydrate, hydrateAll, returned, subtreeContains } from './hydrate';

export interface NewVoucher {
  id: string;
  holderPersonId: string;
  regionCode: string;
  kind: VoucherKind;
  batchId: string | null;
  templateId: string | null;
  classId: string | null;
  institutionId: string | null;
  functionMode: FunctionMode;
  businessMode: BusinessMode | null;
  faceValueFen: number | null;
  trainingType: string;
  occupation: string | null;
  certificateLevel: string | null;
  codeDigest: Buffer;
  codeHint: string;
  issuedAt: Date;
  validFrom: Date;
  validUntil: Date;
}

/** Which vouchers a transition applies to. */
export type VoucherSelector =
  /** These vouchers; with `validAt`, only while still valid at that instant. */
  | { ids: string[]; validAt?: Date }
  /** Every voucher of a batch. */
  | { batchId: string }
  /** Up to `limit` held vouchers whose validity ended by `dueAt`, skipping rows another worker holds. */
  | { dueAt: Date; limit: number };

/** Columns a transition sets besides the state. */
export interface TransitionSet {
  at: Date;
  use?: {
    institutionId: string;
    classId: string | null;
    enrollmentId: string | null;
    by: string;
    channel: UseChannel;
  };
  settle?: { disbursementId: string };
  /** EXPIRED / INVALIDATED. */
  endReason?: string;
}

export type TransitionedVoucher = VoucherRow & { fromState: VoucherState };

export interface NewTransition {
  id: string;
  voucher: VoucherRow;
  fromState: VoucherState | null;
  toState: VoucherState;
  at: Date;
  actorKind: ActorKind;
  actorId: string;
  reason: string | null;
  /** The institution the fact is attributed to (used at, or the directed class's institution). */
  institutionId: string | null;
  classId: string | null;
  enrollmentId: string | null;
  disbursementId: string | null;
}

const VOUCHER_COLUMNS = [
  'id',
  'holder_person_id',
  'region_code',
  'state',
  'kind',
  'batch_id',
  'template_id',
  'class_id',
  'institution_id',
  'function_mode',
  'business_mode',
  'face_value_fen',
  'training_type',
  'occupation',
  'certificate_level',
  'code_digest',
  'code_hint',
  'issued_at',
  'valid_from',
  'valid_until',
] as const;

function voucherValues(v: NewVoucher): unknown[] {
  return [
    v.id,
    v.holderPersonId,
    v.regionCode,
    'HELD',
    v.kind,
    v.batchId,
    v.templateId,
    v.classId,
    v.institutionId,
    v.functionMode,
    v.businessMode,
    v.faceValueFen,
    v.trainingType,
    v.occupation,
    v.certificateLevel,
    v.codeDigest,
    v.codeHint,
    v.issuedAt,
    v.validFrom,
    v.validUntil,
  ];
}

const TRANSITION_COLUMNS = [
  'id',
  'voucher_id',
  'from_state',
  'to_state',
  'at',
  'actor_kind',
  'actor_id',
  'reason',
  'region_code',
  'kind',
  'training_type',
  'function_mode',
  'face_value_fen',
  'institution_id',
  'class_id',
  'enrollment_id',
  'batch_id',
  'template_id',
  'disbursement_id',
] as const;

function transitionValues(t: NewTransition): unknown[] {
  return [
    t.id,
    t.voucher.id,
    t.fromState,
    t.toState,
    t.at,
    t.actorKind,
    t.actorId,
    t.reason,
    t.voucher.regionCode,
    t.voucher.kind,
    t.voucher.trainingType,
    t.voucher.functionMode,
    t.voucher.faceValueFen,
    t.institutionId,
    t.classId,
    t.enrollmentId,
    t.voucher.batchId,
    t.voucher.templateId,
    t.disbursementId,
  ];
}

const OUTBOX_COLUMNS = ['id', 'topic', 'key', 'type', 'subject', 'payload', 'headers'] as const;

/** A row for jsonb_populate_record: bytea as `\x` hex text, timestamps as ISO text. */
function jsonRow(columns: readonly string[], values: unknown[]): string {
  const row: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    const v = values[i];
    row[c] = Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : v instanceof Date ? v.toISOString() : v;
  });
  return JSON.stringify(row);
}

/** Why claim_general_voucher refused, by the SQLSTATE it raised. */
export type ClaimRefusal = 'ALREADY_CLAIMED' | 'NOT_TAKEN' | 'KEY_RECORDED';
const CLAIM_REFUSALS: Record<string, ClaimRefusal> = {
  VC001: 'ALREADY_CLAIMED',
  VC002: 'NOT_TAKEN',
  VC003: 'KEY_RECORDED',
};

export class ClaimRefused extends Error {
  constructor(readonly refusal: ClaimRefusal) {
    super(`claim refused: ${refusal}`);
    this.name = 'ClaimRefused';
  }
}

/** What a find would select: every column but the code digest (never read back). */
const SELECTED = [
  ...VOUCHER_COLUMNS.filter((c) => c !== 'code_digest'),
  // Not in the insert: set by later transitions, or by column defaults.
  'used_at',
  'used_institution_id',
  'used_class_id',
  'used_enrollment_id',
  'used_by',
  'used_channel',
  'settled_at',
  'disbursement_id',
  'ended_at',
  'end_reason',
  'updated_at',
].join(', ');

function placeholders(rows: number, width: number): string {
  return Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`,
  ).join(', ');
}

export class VoucherRepository {
  constructor(private readonly ds: DataSource) {}

  /** Plain SQL rather than a find: read on every scan, claim and wallet look-up. */
  async byId(id: string, manager: EntityManager = this.ds.manager): Promise<VoucherRow | null> {
    const rows = await manager.query(`SELECT ${SELECTED} FROM vouchers WHERE id = $1`, [id]);
    return rows[0] ? hydrate(manager, VoucherRow, rows[0]) : null;
  }

  /**
   * A scan's first step in one round trip: records the token id (false when it was redeemed before —
   * the final word on replay) and reads the voucher.
   */
  async recordTokenAndRead(
    manager: EntityManager,
    jti: string,
    voucherId: string,
    at: Date,
  ): Promise<{ fresh: boolean; voucher: VoucherRow | null }> {
    const rows: Record<string, unknown>[] = await manager.query(
      `WITH t AS (
         INSERT INTO redeemed_tokens (jti, voucher_id, redeemed_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING jti)
       SELECT (SELECT count(*) FROM t)::int AS fresh, v.id IS NOT NULL AS found, v.*
       FROM (SELECT 1) one LEFT JOIN (SELECT ${SELECTED} FROM vouchers WHERE id = $2) v ON true`,
      [jti, voucherId, at],
    );
    const r = rows[0]!;
    return { fresh: r.fresh === 1, voucher: r.found ? hydrate(manager, VoucherRow, r) : null };
  }

  async byCodeDigest(digest: Buffer): Promise<VoucherRow | null> {
    const rows = await this.ds.query('SELECT * FROM vouchers WHERE code_digest = $1', [digest]);
    return rows[0] ? hydrate(this.ds.manager, VoucherRow, rows[0]) : null;
  }

  /** A holder's vouchers in the given states, newest first. */
  byHolder(personId: string, states: readonly VoucherState[] | null): Promise<VoucherRow[]> {
    const qb = this.ds
      .getRepository(VoucherRow)
      .createQueryBuilder('v')
      .where('v.holder_person_id = :personId', { personId })
      .orderBy('v.id', 'DESC')
      .limit(500);
    if (states) qb.andWhere('v.state IN (:...states)', { states });
    return qb.getMany();
  }

  /** Keyset page for the records view (培训券记录管理) inside a region subtree. */
  pageInRegion(
    prefix: string,
    filter: {
      state?: VoucherState | null;
      kind?: VoucherKind | null;
      batchId?: string | null;
      templateId?: string | null;
      holderPersonId?: string | null;
      institutionId?: string | null;
    },
    limit: number,
    afterId: string | null,
  ): Promise<VoucherRow[]> {
    const qb = this.ds
      .getRepository(VoucherRow)
      .createQueryBuilder('v')
      .where('v.region_code LIKE :prefix', { prefix: `${prefix}%` })
      .orderBy('v.id', 'ASC')
      .limit(limit + 1);
    if (filter.state) qb.andWhere('v.state = :state', { state: filter.state });
    if (filter.kind) qb.andWhere('v.kind = :kind', { kind: filter.kind });
    if (filter.batchId) qb.andWhere('v.batch_id = :batchId', { batchId: filter.batchId });
    if (filter.templateId) qb.andWhere('v.template_id = :templateId', { templateId: filter.templateId });
    if (filter.holderPersonId) qb.andWhere('v.holder_person_id = :holder', { holder: filter.holderPersonId });
    if (filter.institutionId) {
      qb.andWhere('(v.institution_id = :inst OR v.used_institution_id = :inst)', {
        inst: filter.institutionId,
      });
    }
    if (afterId) qb.andWhere('v.id > :afterId', { afterId });
    return qb.getMany();
  }

  /** Inserts issued vouchers; a member who already holds one of the batch is skipped. */
  async insertIssued(manager: EntityManager, vouchers: NewVoucher[]): Promise<VoucherRow[]> {
    const out: VoucherRow[] = [];
    // Bounded statements: PostgreSQL allows 65535 parameters.
    for (let i = 0; i < vouchers.length; i += 1000) {
      const chunk = vouchers.slice(i, i + 1000);
      const rows = await manager.query(
        `INSERT INTO vouchers (${VOUCHER_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, VOUCHER_COLUMNS.length)}
         ON CONFLICT (batch_id, holder_person_id) WHERE batch_id IS NOT NULL DO NOTHING RETURNING *`,
        chunk.flatMap(voucherValues),
      );
      out.push(...hydrateAll(manager, VoucherRow, rows));
    }
    return out;
  }

  /** A claimed general voucher; null when the person already holds one of this template. */
  async insertClaimed(manager: EntityManager, v: NewVoucher): Promise<VoucherRow | null> {
    const rows = await manager.query(
      `INSERT INTO vouchers (${VOUCHER_COLUMNS.join(', ')}) VALUES ${placeholders(1, VOUCHER_COLUMNS.length)}
       ON CONFLICT (template_id, holder_person_id) WHERE template_id IS NOT NULL DO NOTHING RETURNING *`,
      voucherValues(v),
    );
    return rows[0] ? hydrate(manager, VoucherRow, rows[0]) : null;
  }

  /**
   * The one statement every lifecycle change goes through: locks the selected vouchers that are in one of
   * `sources`, moves them to `to` and returns them with the state they came from. A voucher another
   * transaction changed first is re-checked after its lock is released and left out if it no longer
   * qualifies — so of two concurrent uses, exactly one returns a row.
   */
  async transition(
    manager: EntityManager,
    selector: VoucherSelector,
    to: VoucherState,
    sources: readonly VoucherState[],
    set: TransitionSet,
  ): Promise<TransitionedVoucher[]> {
    const params: unknown[] = [to, sources, set.at];
    const p = (v: unknown) => `$${params.push(v)}`;
    let where: string;
    let tail = 'FOR UPDATE';
    if ('ids' in selector) {
      where = `id = ANY(${p(selector.ids)}::uuid[])`;
      if (selector.validAt)
        where += ` AND valid_from <= ${p(selector.validAt)} AND valid_until > $${params.length}`;
    } else if ('batchId' in selector) {
      where = `batch_id = ${p(selector.batchId)}`;
    } else {
      where = `state = 'HELD' AND valid_until <= ${p(selector.dueAt)}`;
      tail = `ORDER BY valid_until LIMIT ${p(selector.limit)} FOR UPDATE SKIP LOCKED`;
    }
    const sets = ['state = $1', 'updated_at = $3'];
    if (set.use) {
      sets.push(
        'used_at = $3',
        `used_institution_id = ${p(set.use.institutionId)}`,
        `used_class_id = ${p(set.use.classId)}`,
        `used_enrollment_id = ${p(set.use.enrollmentId)}`,
        `used_by = ${p(set.use.by)}`,
        `used_channel = ${p(set.use.channel)}`,
      );
    }
    if (set.settle) {
      // Settled: the code is dead (seed 000 §3.1.5; Art. 28).
      sets.push('settled_at = $3', `disbursement_id = ${p(set.settle.disbursementId)}`, 'code_digest = NULL');
    }
    if (set.endReason !== undefined) sets.push('ended_at = $3', `end_reason = ${p(set.endReason)}`);
    const result = await manager.query(
      `WITH target AS (
         SELECT id, state AS from_state FROM vouchers WHERE ${where} AND state = ANY($2::text[]) ${tail}
       )
       UPDATE vouchers v SET ${sets.join(', ')} FROM target t WHERE v.id = t.id
       RETURNING v.*, t.from_state`,
      params,
    );
    return returned(result).map((raw) =>
      Object.assign(hydrate(manager, VoucherRow, raw), { fromState: raw.from_state as VoucherState }),
    );
  }

  /**
   * The held voucher an enrollment uses automatically: one directed to this class first, else a general
   * voucher of the same training type (and occupation, when the voucher names one) issued by a region
   * containing the class's, the soonest to expire first. Locked; rows another transaction holds are skipped.
   */
  async autoUseCandidate(
    manager: EntityManager,
    e: { personId: string; classId: string; trainingType: string; occupation: string; regionCode: string },
    at: Date,
  ): Promise<string | null> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM vouchers
       WHERE holder_person_id = $1 AND state = 'HELD' AND valid_from <= $6 AND valid_until > $6
         AND (class_id = $2
              OR (kind = 'GENERAL' AND training_type = $3 AND (occupation IS NULL OR occupation = $4)
                  AND ${subtreeContains('region_code', '$5')}))
       ORDER BY (class_id = $2) DESC NULLS LAST, valid_until ASC
       LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [e.personId, e.classId, e.trainingType, e.occupation, e.regionCode, at],
    );
    return rows[0]?.id ?? null;
  }

  /** Who already holds a voucher of this batch. */
  async holdersOfBatch(manager: EntityManager, batchId: string): Promise<Set<string>> {
    const rows: { holder_person_id: string }[] = await manager.query(
      'SELECT holder_person_id FROM vouchers WHERE batch_id = $1',
      [batchId],
    );
    return new Set(rows.map((r) => r.holder_person_id));
  }

  /** Held vouchers of a batch belonging to these people. */
  async heldInBatch(manager: EntityManager, batchId: string, personIds: string[]): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM vouchers WHERE batch_id = $1 AND holder_person_id = ANY($2::uuid[]) AND state = 'HELD'`,
      [batchId, personIds],
    );
    return rows.map((r) => r.id);
  }

  /** Whether the person already used a voucher for this class (one voucher per person per class). */
  async usedForClass(manager: EntityManager, personId: string, classId: string): Promise<boolean> {
    const rows = await manager.query(
      `SELECT 1 FROM vouchers WHERE used_class_id = $1 AND holder_person_id = $2
         AND state IN ('USED', 'SETTLED') LIMIT 1`,
      [classId, personId],
    );
    return rows.length > 0;
  }

  /** The person's vouchers used for this enrollment (or, without one recorded, for this class). */
  async usedIds(
    manager: EntityManager,
    personId: string,
    classId: string,
    enrollmentId: string,
  ): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM vouchers WHERE used_class_id = $1 AND holder_person_id = $2 AND state = 'USED'
         AND (used_enrollment_id IS NULL OR used_enrollment_id = $3)`,
      [classId, personId, enrollmentId],
    );
    return rows.map((r) => r.id);
  }

  async insertTransitions(manager: EntityManager, rows: NewTransition[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      await manager.query(
        `INSERT INTO voucher_transitions (${TRANSITION_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, TRANSITION_COLUMNS.length)}`,
        chunk.flatMap(transitionValues),
      );
    }
  }

  /**
   * A general-voucher claim in one statement and one round trip (the claim_general_voucher function,
   * migration 1732200000400): idempotency key, voucher, template counter, issue transition and outbox
   * row, all or nothing. Runs outside any transaction on purpose, so the template row is locked only
   * inside PostgreSQL. Throws ClaimRefused for the refusals the function raises.
   */
  async claimGeneral(c: {
    templateId: string;
    at: Date;
    voucher: NewVoucher;
    transition: NewTransition;
    outbox: ReturnType<typeof outboxRow>;
    idempotency?: { scope: string; key: string; hash: string };
  }): Promise<VoucherRow> {
    try {
      const rows = await this.ds.query(
        'SELECT * FROM claim_general_voucher($1, $2, $3, $4, $5, $6, $7, $8)',
        [
          c.templateId,
          c.at,
          jsonRow(VOUCHER_COLUMNS, voucherValues(c.voucher)),
          jsonRow(TRANSITION_COLUMNS, transitionValues(c.transition)),
          jsonRow(OUTBOX_COLUMNS, [
            c.outbox.id,
            c.outbox.topic,
            c.outbox.key,
            c.outbox.type,
            c.outbox.subject,
            c.outbox.payload,
            c.outbox.headers,
          ]),
          c.idempotency?.scope ?? null,
          c.idempotency?.key ?? null,
          c.idempotency?.hash ?? null,
        ],
      );
      return hydrate(this.ds.manager, VoucherRow, rows[0]);
    } catch (err) {
      const refusal = CLAIM_REFUSALS[(err as { code?: string }).code ?? ''];
      if (refusal) throw new ClaimRefused(refusal);
      throw err;
    }
  }

  history(voucherId: string): Promise<VoucherTransitionRow[]> {
    return this.ds.getRepository(VoucherTransitionRow).find({ where: { voucherId }, order: { id: 'ASC' } });
  }

  /** Records a redeemed token id; false when it was redeemed before (the final word on replay). */
  async recordToken(manager: EntityManager, jti: string, voucherId: string, at: Date): Promise<boolean> {
    const rows = await manager.query(
      `INSERT INTO redeemed_tokens (jti, voucher_id, redeemed_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING jti`,
      [jti, voucherId, at],
    );
    return rows.length === 1;
  }

  /** Token ids past any token's lifetime are no longer needed: an expired token is refused anyway. */
  async purgeTokens(before: Date): Promise<number> {
    const result = await this.ds.query(
      `DELETE FROM redeemed_tokens WHERE jti IN (
         SELECT jti FROM redeemed_tokens WHERE redeemed_at < $1 LIMIT 5000)`,
      [before],
    );
    return Number(Array.isArray(result) ? (result[1] ?? 0) : 0);
  }
}
