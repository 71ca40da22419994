import { outboxRow } from '@vtv/events';
import { DomainError, ErrorCode, inRegion, requestHash, uuidv7, type Caller } from '@vtv/kit';
import { VoucherRow, type TemplateRow } from '../data/entities';
import { ClaimRefused, type NewVoucher } from '../data/repositories';
import { codeDigest, codeHint, deriveCode } from '../domain/codes';
import { addDays, chinaYearOf } from '../domain/dates';
import { Semaphore } from '../domain/semaphore';
import { VoucherError } from '../errors';
import { requirePerson } from './access';
import { idempotencyScope, refuseUnlessStored, type Deps } from './context';
import { uuid } from './input';
import { Lifecycle } from './lifecycle';
import { personKey } from './projections';
import { verifyProof } from './proofs';
import { stockKey } from './templates';

/** How long a per-person "claim running" marker lives if its process dies before clearing it. */
const PENDING_MS = 30_000;
/** The stock counter re-syncs from the database at least this often (self-healing after any drift). */
const STOCK_TTL_MS = 10 * 60_000;
/** Templates are read on every claim: a short in-process cache spares the database. */
const TEMPLATE_CACHE_MS = 2_000;
/**
 * Claim statements of one template in flight per process: most of the pool, leaving connections for
 * everything else (scans above all). The template row is locked only inside each statement, so they
 * overlap well.
 */
const writersPerTemplate = (poolSize: number) => Math.max(1, poolSize - 2);
/** Eligibility facts (e-SSC region, birth year) cached in Redis; CardIssued drops the entry. */
const PERSON_TTL_MS = 3600_000;

type Gate = 'admitted' | 'sold-out' | 'off';

/**
 * 领券 (Art. 11–12, 16; seed 000 §3.1.2): a person claims a general voucher after identity verification.
 * One claim per person per template, never more claims than the quantity — also under a flash crowd:
 *
 * 1. cheap refusals first: window, and a Redis peek at the stock and at the person's marker — once a
 *    template is sold out, the crowd is answered before any signature check or database read;
 * 2. the identity verification proof;
 * 3. Redis per-person marker (SET NX): the same person's concurrent or repeated claims stop here;
 * 4. Redis stock counter (decrement only while positive): only as many claims as there is stock get
 *    further. A cold counter is initialised from the database (SET NX);
 * 5. eligibility (region, age, audience; identity's facts from a Redis copy of the projection), with
 *    a clear reason — an ineligible claim gives its unit back;
 * 6. the database is the final word: INSERT (unique template + holder) and a conditional
 *    `UPDATE … SET claimed = claimed + 1 WHERE claimed < quantity`, with the transition, the event and
 *    the idempotency key, in one statement (claim_general_voucher);
 * 7. on failure the Redis counter is compensated (or zeroed when the database says sold out).
 *
 * Redis being down only removes the shedding: every claim then goes to the database, which still
 * refuses duplicates and overselling.
 */
export class ClaimService {
  private readonly templates = new Map<string, { row: TemplateRow; until: number }>();
  private readonly loadingTemplates = new Map<string, Promise<TemplateRow | null>>();
  private readonly initialising = new Map<string, Promise<void>>();
  private readonly writers = new Map<string, Semaphore>();

  constructor(private readonly deps: Deps) {}

  async claim(caller: Caller, templateIdInput: string, proof: string, key?: string): Promise<string> {
    const personId = requirePerson(caller);
    const templateId = uuid('templateId', templateIdInput);
    const now = this.deps.now();
    const t = await this.template(templateId);
    if (!t) throw new DomainError(ErrorCode.NOT_FOUND, 'Voucher template not found', 'templateId');
    this.requireOpen(t, now);
    const idem = { caller, key, operation: 'claimVoucher', input: { templateId } };
    const marker = `claim:${t.id}:${personId}`;

    // Cheap refusals before any signature check or database read.
    const [stockLeft, mark] = await Promise.all([
      this.deps.cache.get(stockKey(t.id)).catch(() => null),
      this.deps.cache.get(marker).catch(() => null),
    ]);
    if (mark === 'claimed') return refuseUnlessStored(this.deps, idem, alreadyClaimed());
    if (stockLeft !== null && Number(stockLeft) <= 0) throw soldOut();

    const verified = await verifyProof(this.deps, proof, { personId, purpose: 'CLAIM_VOUCHER' });
    if (verified.subject && verified.subject !== templateId) {
      throw new DomainError(
        'IDENTITY_PROOF_INVALID',
        'Identity verification proof was issued for another template',
        'proof',
      );
    }

    let gated = true;
    try {
      if (!(await this.deps.cache.setIfAbsent(marker, 'pending', PENDING_MS))) {
        const state = await this.deps.cache.get(marker);
        return refuseUnlessStored(
          this.deps,
          idem,
          state === 'claimed'
            ? alreadyClaimed()
            : new DomainError(
                VoucherError.CLAIM_IN_PROGRESS,
                'Your claim of this voucher is in progress',
                undefined,
                true,
              ),
        );
      }
    } catch (err) {
      if (err instanceof DomainError) throw err;
      gated = false; // Redis unavailable: the database decides alone.
      this.deps.logger.warn({ err }, 'claim gate unavailable; falling back to the database');
    }

    const stock: Gate = gated ? await this.takeStock(t) : 'off';
    if (stock === 'sold-out') {
      await this.deps.cache.del(marker).catch(() => undefined);
      throw soldOut();
    }

    try {
      // Eligibility after the gate: only claims the stock can satisfy read the person's facts.
      await this.requireEligible(t, personId, now);
      const { voucherId, stored } = await this.writer(t.id).run(() => this.write(t, personId, now, idem));
      if (stored && stock === 'admitted') await this.giveBack(t.id); // A stored result: nothing was taken.
      if (gated) await this.deps.cache.set(marker, 'claimed', this.markerTtl(t, now)).catch(() => undefined);
      return voucherId;
    } catch (err) {
      const code = err instanceof DomainError ? err.code : null;
      if (stock === 'admitted') {
        if (code === VoucherError.SOLD_OUT)
          await this.deps.cache.set(stockKey(t.id), '0', STOCK_TTL_MS).catch(() => undefined);
        else await this.giveBack(t.id);
      }
      if (gated) {
        if (code === VoucherError.ALREADY_CLAIMED)
          await this.deps.cache.set(marker, 'claimed', this.markerTtl(t, now)).catch(() => undefined);
        else await this.deps.cache.del(marker).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * The database's part, in one statement (claim_general_voucher): the voucher, the template counter,
   * the issue transition, VoucherIssued and the idempotency key commit together or not at all, and the
   * template row is locked only inside PostgreSQL. `stored`: an earlier request with the same
   * Idempotency-Key already did it, and this is its result.
   */
  private async write(
    t: TemplateRow,
    personId: string,
    now: Date,
    idem: { caller: Caller; key?: string; operation: string; input: unknown },
  ): Promise<{ voucherId: string; stored: boolean }> {
    const id = uuidv7(now.getTime());
    const code = deriveCode(this.deps.codeKey, id);
    const voucher: NewVoucher = {
      id,
      holderPersonId: personId,
      regionCode: t.regionCode,
      kind: 'GENERAL',
      batchId: null,
      templateId: t.id,
      classId: null,
      institutionId: null,
      functionMode: t.functionMode,
      businessMode: t.businessMode,
      faceValueFen: t.faceValueFen,
      trainingType: t.trainingType,
      occupation: t.occupation,
      certificateLevel: null,
      codeDigest: codeDigest(code),
      codeHint: codeHint(code),
      issuedAt: now,
      validFrom: now,
      validUntil: t.validityType === 'FIXED_END' ? t.validUntil! : addDays(now, t.validDays!),
    };
    const issued = Lifecycle.issueRecords(
      Object.assign(new VoucherRow(), voucher, { state: 'HELD' as const }),
      { kind: 'PERSON', id: personId },
      'claimed (领取)',
    );
    try {
      await this.deps.repos.vouchers.claimGeneral({
        templateId: t.id,
        at: now,
        voucher,
        transition: issued.transition,
        outbox: outboxRow(issued.event),
        ...(idem.key
          ? { idempotency: { scope: idempotencyScope(idem), key: idem.key, hash: requestHash(idem.input) } }
          : {}),
      });
      return { voucherId: id, stored: false };
    } catch (err) {
      if (!(err instanceof ClaimRefused)) throw err;
      if (err.refusal === 'ALREADY_CLAIMED') throw alreadyClaimed();
      if (err.refusal === 'KEY_RECORDED') {
        // Same key, same request: its stored result (or IDEMPOTENCY_KEY_REUSED for another request).
        const voucherId = await refuseUnlessStored<string>(this.deps, idem, alreadyClaimed());
        return { voucherId, stored: true };
      }
      const current = await this.deps.repos.templates.byId(t.id);
      if (current && current.state === 'ACTIVE' && current.claimed >= current.quantity) throw soldOut();
      throw new DomainError(VoucherError.CLAIM_WINDOW_CLOSED, 'This template no longer takes claims');
    }
  }

  private requireOpen(t: TemplateRow, now: Date): void {
    if (t.state !== 'ACTIVE')
      throw new DomainError(
        VoucherError.CLAIM_WINDOW_CLOSED,
        'This template was closed and takes no more claims',
      );
    if (now.getTime() < t.claimStartsAt.getTime())
      throw new DomainError(
        VoucherError.CLAIM_WINDOW_CLOSED,
        `Claims open at ${t.claimStartsAt.toISOString()}`,
      );
    if (now.getTime() >= t.claimEndsAt.getTime())
      throw new DomainError(
        VoucherError.CLAIM_WINDOW_CLOSED,
        `Claims closed at ${t.claimEndsAt.toISOString()}`,
      );
  }

  /** Region (the e-SSC's), age (from the birth year) and, for targeted templates, the audience. */
  private async requireEligible(t: TemplateRow, personId: string, now: Date): Promise<void> {
    const ineligible = (why: string) => new DomainError(VoucherError.INELIGIBLE, why);
    const person = await this.person(personId);
    if (!person)
      throw ineligible('No electronic social security card (电子社保卡) is known for you here yet');
    if (!inRegion(t.eligibleRegionCode, person.regionCode))
      throw ineligible(`This voucher is only for e-SSC holders of region ${t.eligibleRegionCode}`);
    if (t.minAge !== null || t.maxAge !== null) {
      if (person.birthYear === null)
        throw ineligible('This voucher has an age limit and your age is not known');
      const age = chinaYearOf(now) - person.birthYear;
      if (t.minAge !== null && age < t.minAge)
        throw ineligible(`This voucher is for people aged ${t.minAge} or over`);
      if (t.maxAge !== null && age > t.maxAge)
        throw ineligible(`This voucher is for people aged ${t.maxAge} or under`);
    }
    if (t.audienceOnly && !(await this.deps.repos.templates.inAudience(t.id, personId))) {
      const groups = t.targetGroups.length ? ` (${t.targetGroups.join('、')})` : '';
      throw ineligible(`This voucher is only for its target groups${groups}`);
    }
  }

  /** Redis stock gate: admitted, sold out, or off (Redis unavailable). */
  private async takeStock(t: TemplateRow): Promise<Gate> {
    const key = stockKey(t.id);
    try {
      let left = await this.deps.cache.decrementIfPositive(key);
      if (left === null) {
        await this.initStock(t.id);
        left = await this.deps.cache.decrementIfPositive(key);
      }
      if (left === null) return 'off';
      return left >= 0 ? 'admitted' : 'sold-out';
    } catch (err) {
      this.deps.logger.warn({ err }, 'stock gate unavailable; falling back to the database');
      return 'off';
    }
  }

  /** Cold cache: the counter starts at what the database has left; one initialiser per process. */
  private initStock(templateId: string): Promise<void> {
    let running = this.initialising.get(templateId);
    if (!running) {
      running = (async () => {
        const remaining = await this.deps.repos.templates.remaining(templateId);
        await this.deps.cache.setIfAbsent(stockKey(templateId), String(remaining), STOCK_TTL_MS);
      })().finally(() => this.initialising.delete(templateId));
      this.initialising.set(templateId, running);
    }
    return running;
  }

  private async giveBack(templateId: string): Promise<void> {
    await this.deps.cache.incrBy(stockKey(templateId), 1, STOCK_TTL_MS).catch(() => undefined);
  }

  private markerTtl(t: TemplateRow, now: Date): number {
    return Math.max(60_000, Math.min(t.claimEndsAt.getTime() - now.getTime() + 60_000, 90 * 24 * 3600_000));
  }

  /** The claim transactions of one template, a few at a time. */
  private writer(templateId: string): Semaphore {
    let s = this.writers.get(templateId);
    if (!s) {
      for (const [id, w] of this.writers) if (w.idle) this.writers.delete(id);
      s = new Semaphore(writersPerTemplate(this.deps.config.DATABASE_POOL_SIZE));
      this.writers.set(templateId, s);
    }
    return s;
  }

  /** identity's facts about the person (region, birth year): Redis first, the projection on a miss. */
  private async person(personId: string): Promise<{ regionCode: string; birthYear: number | null } | null> {
    const key = personKey(personId);
    const hit = await this.deps.cache.get(key).catch(() => null);
    if (hit) return JSON.parse(hit) as { regionCode: string; birthYear: number | null };
    const row = await this.deps.repos.projections.person(personId);
    if (!row) return null;
    const facts = { regionCode: row.regionCode.trim(), birthYear: row.birthYear };
    await this.deps.cache.set(key, JSON.stringify(facts), PERSON_TTL_MS).catch(() => undefined);
    return facts;
  }

  /**
   * The template, cached briefly per process. Misses are single-flight: a flash crowd arriving on a
   * cold cache makes one database read, not one per claimer (which would drain the pool).
   */
  private async template(id: string): Promise<TemplateRow | null> {
    const hit = this.templates.get(id);
    if (hit && hit.until > Date.now()) return hit.row;
    let loading = this.loadingTemplates.get(id);
    if (!loading) {
      loading = this.deps.repos.templates
        .byId(id)
        .then((row) => {
          if (row) {
            if (this.templates.size > 10_000) this.templates.clear();
            this.templates.set(id, { row, until: Date.now() + TEMPLATE_CACHE_MS });
          }
          return row;
        })
        .finally(() => this.loadingTemplates.delete(id));
      this.loadingTemplates.set(id, loading);
    }
    return loading;
  }
}

function alreadyClaimed(): DomainError {
  return new DomainError(VoucherError.ALREADY_CLAIMED, 'You have already claimed this voucher');
}

function soldOut(): DomainError {
  return new DomainError(VoucherError.SOLD_OUT, 'All vouchers of this template have been claimed');
}
