import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CertificateKind as CertificateKindPb,
  CertificateRecordedSchema,
  TOPICS,
  buildEvent,
  enqueue,
} from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isRegionCode,
  isUuid,
  parsePage,
  regionPrefix,
  requireCaller,
  requirePermission,
  toConnection,
  withIdempotency,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { DataSource, EntityManager } from 'typeorm';
import type { ArchiveRepository } from '../data/archive-repository';
import type { AccessLogRepository } from '../data/access-log-repository';
import {
  CERTIFICATE_KINDS,
  SKILL_LEVELS,
  type CertificateKind,
  type CertificateRow,
  type CertificateSource,
  type SkillLevel,
} from '../data/entities';
import type { CertificateRepository } from '../data/repositories';
import { CAREERS_CERTIFICATES_IMPORT, CAREERS_READ } from '../permissions';
import { AccessAction, actorOf, isSelf, staffScope, type AccessLogService } from './access';
import { chinaDayStart, chinaToday, isCalendarDate, DAY_MS } from './dates';
import type { RecommendationService } from './recommendations';
import { certificateSummary } from './summaries';

export { CAREERS_READ };

export interface ImportCertificateInput {
  holderId: string;
  regionCode: string;
  kind: CertificateKind;
  occupation: string;
  level?: SkillLevel | null;
  issuer: string;
  number: string;
  issuedOn: string;
}

export interface CertificateSearchArgs extends PageArgs {
  regionCode?: string | null;
  holderId?: string | null;
  occupation?: string | null;
  kind?: CertificateKind | null;
  level?: SkillLevel | null;
  issuer?: string | null;
  number?: string | null;
}

/** A validated certificate, ready to record. */
export interface ValidCertificate {
  holderPersonId: string;
  regionCode: string;
  kind: CertificateKind;
  occupation: string;
  level: SkillLevel | null;
  issuer: string;
  number: string;
  issuedOn: string;
}

export interface Importer {
  source: CertificateSource;
  /** Client or staff id (graph), integrator id (event). */
  importedBy: string | null;
  eventId: string | null;
  actor: ReturnType<typeof actorOf>;
}

export type RecordOutcome =
  | { status: 'RECORDED'; certificate: CertificateRow }
  /** Same issuer and number, same content: already recorded (a repeat). */
  | { status: 'ALREADY_RECORDED'; certificate: CertificateRow }
  /** Same issuer and number, different content. */
  | { status: 'CONFLICT'; certificate: CertificateRow };

// Control characters have no place in a certificate's text fields.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw badInput(field, `${field} is required`);
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > max || CONTROL.test(trimmed))
    throw badInput(field, `${field} must be 1 to ${max} printable characters`);
  return trimmed;
}

/**
 * Checks a certificate from any source. Field names are the graph input's; event imports report the
 * same names in their rejection reason.
 */
export function validateCertificate(input: ImportCertificateInput, today: string): ValidCertificate {
  if (typeof input.holderId !== 'string' || !isUuid(input.holderId))
    throw badInput('holderId', 'holderId must be a person id');
  if (typeof input.regionCode !== 'string' || !isRegionCode(input.regionCode))
    throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
  if (!CERTIFICATE_KINDS.includes(input.kind)) throw badInput('kind', 'Unknown certificate kind');
  const occupation = text('occupation', input.occupation, 100);
  const level = input.level ?? null;
  if (level !== null && !SKILL_LEVELS.includes(level)) throw badInput('level', 'Unknown skill level');
  if (input.kind === 'SKILL_LEVEL' && level === null)
    throw badInput('level', 'A skill level certificate must carry its level');
  const issuer = text('issuer', input.issuer, 200);
  const number = text('number', input.number, 100);
  if (typeof input.issuedOn !== 'string' || !isCalendarDate(input.issuedOn))
    throw badInput('issuedOn', 'issuedOn must be a date as YYYY-MM-DD');
  if (input.issuedOn > today) throw badInput('issuedOn', 'issuedOn must not be in the future');
  return {
    holderPersonId: input.holderId.toLowerCase(),
    regionCode: input.regionCode,
    kind: input.kind,
    occupation,
    level,
    issuer,
    number,
    issuedOn: input.issuedOn,
  };
}

function sameContent(a: CertificateRow, b: ValidCertificate): boolean {
  return (
    a.holderPersonId === b.holderPersonId &&
    a.regionCode === b.regionCode &&
    a.kind === b.kind &&
    a.occupation === b.occupation &&
    (a.level ?? null) === b.level &&
    a.issuedOn === b.issuedOn
  );
}

const KIND_PB: Record<CertificateKind, CertificateKindPb> = {
  TRAINING: CertificateKindPb.TRAINING,
  VOCATIONAL_QUALIFICATION: CertificateKindPb.VOCATIONAL_QUALIFICATION,
  SKILL_LEVEL: CertificateKindPb.SKILL_LEVEL,
};

/**
 * Certificates (证书): imported by integrators through the graph or events, read by their holder and by
 * staff in region. Recording one also writes its archive entry, a CertificateRecorded event and a
 * recommendation refresh, all in one transaction.
 */
export class CertificateService {
  constructor(
    private readonly ds: DataSource,
    private readonly certificates: CertificateRepository,
    private readonly archive: ArchiveRepository,
    private readonly accessLogRepo: AccessLogRepository,
    private readonly accessLog: AccessLogService,
    private readonly recommendations: RecommendationService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The holder, or staff holding careers:read whose region contains the certificate's (the read is
   * logged). "Not yours" is indistinguishable from "does not exist": both are null.
   */
  async visibleTo(caller: Caller, id: string): Promise<CertificateRow | null> {
    if (!isUuid(id)) return null;
    const certificate = await this.certificates.byId(id);
    if (!certificate) return null;
    if (isSelf(caller, certificate.holderPersonId)) return certificate;
    const scope = staffScope(caller);
    if (!scope || !inRegion(scope, certificate.regionCode)) return null;
    await this.accessLog.recordRead(
      caller,
      [certificate.holderPersonId],
      AccessAction.CERTIFICATES_VIEWED,
      `viewed certificate ${certificate.id}`,
    );
    return certificate;
  }

  /** A person's certificates: all of them for the person themself, those in region for staff (logged), none for others. */
  async forPerson(caller: Caller, personId: string): Promise<CertificateRow[]> {
    if (!isUuid(personId)) return [];
    if (isSelf(caller, personId)) return this.certificates.byHolder(personId, null);
    const scope = staffScope(caller);
    if (!scope) return [];
    const rows = await this.certificates.byHolder(personId, regionPrefix(scope));
    await this.accessLog.recordRead(
      caller,
      [personId],
      AccessAction.CERTIFICATES_VIEWED,
      `viewed ${rows.length} certificates recorded in region ${scope}`,
    );
    return rows;
  }

  /** Staff holding careers:read search certificates recorded inside their region; each holder's log notes it. */
  async search(caller: Caller, args: CertificateSearchArgs): Promise<Connection<CertificateRow>> {
    requireCaller(caller, 'staff');
    requirePermission(caller, CAREERS_READ);
    const scope = staffScope(caller);
    if (!scope) throw new DomainError(ErrorCode.FORBIDDEN, 'You have no region to search in');
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    let area = scope;
    if (args.regionCode != null) {
      if (!isRegionCode(args.regionCode))
        throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
      if (!inRegion(scope, args.regionCode))
        throw new DomainError(ErrorCode.FORBIDDEN, 'You may only search inside your region', 'regionCode');
      area = args.regionCode;
    }
    const holder = args.holderId ?? null;
    if (holder !== null && !isUuid(holder)) throw badInput('holderId', 'holderId must be a person id');
    const opt = (field: string, v: string | null | undefined, max: number) =>
      v == null || v.trim() === '' ? null : text(field, v, max);
    if (args.kind != null && !CERTIFICATE_KINDS.includes(args.kind)) throw badInput('kind', 'Unknown kind');
    if (args.level != null && !SKILL_LEVELS.includes(args.level)) throw badInput('level', 'Unknown level');
    const rows = await this.certificates.search({
      regionPrefix: regionPrefix(area),
      holderPersonId: holder,
      occupation: opt('occupation', args.occupation, 100),
      kind: args.kind ?? null,
      level: args.level ?? null,
      issuer: opt('issuer', args.issuer, 200),
      number: opt('number', args.number, 100),
      afterId: afterKey,
      limit,
    });
    const page = rows.slice(0, limit);
    await this.accessLog.recordRead(
      caller,
      page.map((c) => c.holderPersonId),
      AccessAction.CERTIFICATES_VIEWED,
      `found in a certificate search in region ${area}`,
    );
    return toConnection(rows, limit, (c) => c.id);
  }

  /**
   * An integrator (client) or staff member holding careers:certificates:import imports a certificate
   * issued inside their region. The same issuer and number twice is a CONFLICT, unless the repeat
   * carries the same Idempotency-Key (then it gets the first result).
   */
  async importFromGraph(
    caller: Caller,
    input: ImportCertificateInput,
    idempotencyKey?: string,
  ): Promise<CertificateRow> {
    requireCaller(caller, 'client', 'staff');
    requirePermission(caller, CAREERS_CERTIFICATES_IMPORT);
    const valid = validateCertificate(input, chinaToday(this.now()));
    if (
      !caller.regionCode ||
      !isRegionCode(caller.regionCode) ||
      !inRegion(caller.regionCode, valid.regionCode)
    )
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        'You may only import certificates issued inside your region',
        'regionCode',
      );
    const importer: Importer = {
      source: 'GRAPH',
      importedBy: caller.id,
      eventId: null,
      actor: actorOf(caller),
    };
    const work = async (m: EntityManager) => {
      const outcome = await this.record(m, valid, importer);
      if (outcome.status !== 'RECORDED')
        throw new DomainError(
          ErrorCode.CONFLICT,
          'The issuer has already recorded a certificate with this number',
          'number',
        );
      return outcome.certificate.id;
    };
    const id = idempotencyKey
      ? await withIdempotency(
          this.ds,
          {
            scope: `careers.importCertificate:${caller.kind}:${caller.id}`,
            key: idempotencyKey,
            input: valid,
          },
          work,
        )
      : await this.ds.transaction(work);
    const row = await this.certificates.byId(id);
    if (!row) throw new Error(`certificate ${id} vanished after import`);
    return row;
  }

  /**
   * Records a certificate inside the caller's transaction: the row, its archive entry, the
   * CertificateRecorded event, the holder's access log line and a recommendation refresh. A
   * certificate already recorded under the issuer and number is reported, not duplicated.
   */
  async record(m: EntityManager, c: ValidCertificate, importer: Importer): Promise<RecordOutcome> {
    const outcome = await this.certificates.insertUnlessExists(
      { ...c, source: importer.source, importedBy: importer.importedBy, importEventId: importer.eventId },
      m,
    );
    if (!outcome.inserted) {
      return sameContent(outcome.existing, c)
        ? { status: 'ALREADY_RECORDED', certificate: outcome.existing }
        : { status: 'CONFLICT', certificate: outcome.existing };
    }
    const certificate = outcome.certificate;
    const now = this.now();
    const issuedStart = chinaDayStart(certificate.issuedOn);
    // In the archive a certificate sits at the end of its day of issue (after that day's training), or
    // at the moment it was recorded when that is earlier (issued today).
    const occurredAt = new Date(Math.min(issuedStart.getTime() + DAY_MS - 1, now.getTime()));
    await this.archive.add(m, [
      {
        personId: certificate.holderPersonId,
        type: 'CERTIFICATE',
        occurredAt,
        regionCode: certificate.regionCode,
        occupation: certificate.occupation,
        level: certificate.level,
        certificateId: certificate.id,
        summary: certificateSummary(certificate),
        sourceEventId: `certificate:${certificate.id}`,
      },
    ]);
    await enqueue(m, [
      buildEvent(
        {
          schema: CertificateRecordedSchema,
          topic: TOPICS.careersCertificate.name,
          subject: certificate.holderPersonId,
          source: '/vtv/careers',
          data: {
            certificateId: certificate.id,
            personId: certificate.holderPersonId,
            regionCode: certificate.regionCode,
            kind: KIND_PB[certificate.kind],
            occupation: certificate.occupation,
            level: certificate.level ?? '',
            issuer: certificate.issuer,
            issuedAt: timestampFromDate(issuedStart),
            issuedOn: certificate.issuedOn,
            source: importer.source,
          },
        },
        now,
      ),
    ]);
    await this.accessLogRepo.add(
      [
        {
          personId: certificate.holderPersonId,
          ...importer.actor,
          action: AccessAction.CERTIFICATE_IMPORTED,
          purpose: null,
          detail: `imported certificate ${certificate.id} (${importer.source === 'GRAPH' ? 'graph' : 'event'})`,
        },
      ],
      m,
    );
    await this.recommendations.refreshPerson(m, certificate.holderPersonId);
    return { status: 'RECORDED', certificate };
  }
}
