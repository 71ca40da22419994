import {
  DomainError,
  ErrorCode,
  badInput,
  isUuid,
  parsePage,
  regionPrefix,
  requireCaller,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { ArchiveRepository } from '../data/archive-repository';
import type { CertificateRepository } from '../data/repositories';
import { ARCHIVE_ENTRY_TYPES, type ArchiveEntryRow, type ArchiveEntryType } from '../data/entities';
import { AccessAction, isSelf, staffScope, type AccessLogService } from './access';
import { csvField } from './summaries';

export interface ArchiveArgs extends PageArgs {
  types?: ArchiveEntryType[] | null;
}

export type ArchiveExportFormat = 'JSON' | 'CSV';

export interface ArchiveExport {
  format: ArchiveExportFormat;
  contentType: string;
  filename: string;
  entryCount: number;
  generatedAt: Date;
  content: string;
}

/** Most entries one export carries; an archive this long is far beyond a working life of training. */
export const EXPORT_MAX_ENTRIES = 10_000;

const CSV_COLUMNS = [
  'occurred_at',
  'type',
  'summary',
  'region_code',
  'occupation',
  'training_type',
  'level',
  'face_value_fen',
  'attendance_rate_bp',
  'passed',
  'class_id',
  'institution_id',
  'enrollment_id',
  'voucher_id',
  'certificate_id',
] as const;

function cursorKey(e: ArchiveEntryRow): string {
  return `${e.occurredAt.toISOString()}|${e.id}`;
}

function parseCursor(key: string | null): { occurredAt: Date; id: string } | null {
  if (key === null) return null;
  const [at, id] = key.split('|');
  const occurredAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(occurredAt.getTime())) throw badInput('after', 'Invalid cursor');
  return { occurredAt, id };
}

/** The lifelong training e-archive (终身职业技能培训电子档案): queries and the holder's export. */
export class ArchiveService {
  constructor(
    private readonly archive: ArchiveRepository,
    private readonly certificates: CertificateRepository,
    private readonly accessLog: AccessLogService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * A person's archive in time order: all of it for the person themself; the entries recorded inside
   * their region for staff holding careers:read (and the read is logged for the person to see);
   * null for everyone else.
   */
  async forPerson(
    caller: Caller,
    personId: string,
    args: ArchiveArgs,
  ): Promise<Connection<ArchiveEntryRow> | null> {
    if (!isUuid(personId)) return null;
    const self = isSelf(caller, personId);
    const scope = self ? null : staffScope(caller);
    if (!self && scope === null) return null;
    const { limit, afterKey } = parsePage(args, 50);
    const after = parseCursor(afterKey);
    const types = args.types?.length ? args.types : null;
    if (types?.some((t) => !ARCHIVE_ENTRY_TYPES.includes(t))) throw badInput('types', 'Unknown entry type');
    const rows = await this.archive.page({
      personId,
      regionPrefix: scope === null ? null : regionPrefix(scope),
      types,
      after,
      limit,
    });
    if (!self) {
      await this.accessLog.recordRead(
        caller,
        [personId],
        AccessAction.ARCHIVE_VIEWED,
        `viewed ${Math.min(rows.length, limit)} training archive entries recorded in region ${scope}`,
      );
    }
    return toConnection(rows, limit, cursorKey);
  }

  /** The holder's own archive as a document (JSON or CSV); nobody else may export it. */
  async exportFor(caller: Caller, format: ArchiveExportFormat): Promise<ArchiveExport> {
    requireCaller(caller);
    if (caller.kind !== 'person')
      throw new DomainError(ErrorCode.FORBIDDEN, 'Only the holder may export their archive');
    if (format !== 'JSON' && format !== 'CSV') throw badInput('format', 'format must be JSON or CSV');
    const personId = caller.id;
    const generatedAt = this.now();
    const entries = await this.archive.all(personId, EXPORT_MAX_ENTRIES);
    const stamp = generatedAt.toISOString().slice(0, 10).replace(/-/g, '');
    if (format === 'CSV') {
      const lines = [CSV_COLUMNS.join(',')];
      for (const e of entries) {
        lines.push(
          [
            e.occurredAt.toISOString(),
            e.type,
            e.summary,
            e.regionCode,
            e.occupation,
            e.trainingType,
            e.level,
            e.faceValueFen,
            e.attendanceRateBp,
            e.passed,
            e.classId,
            e.institutionId,
            e.enrollmentId,
            e.voucherId,
            e.certificateId,
          ]
            .map(csvField)
            .join(','),
        );
      }
      return {
        format,
        contentType: 'text/csv; charset=utf-8',
        filename: `training-archive-${stamp}.csv`,
        entryCount: entries.length,
        generatedAt,
        // A byte-order mark so spreadsheet programs read the Chinese text as UTF-8.
        content: `\uFEFF${lines.join('\r\n')}\r\n`,
      };
    }
    const certificates = await this.certificates.byHolder(personId, null);
    const document = {
      format: 'vtv.careers.archive/v1',
      personId,
      generatedAt: generatedAt.toISOString(),
      entryCount: entries.length,
      entries: entries.map((e) => ({
        occurredAt: e.occurredAt.toISOString(),
        type: e.type,
        summary: e.summary,
        regionCode: e.regionCode,
        occupation: e.occupation,
        trainingType: e.trainingType,
        level: e.level,
        faceValueFen: e.faceValueFen,
        attendanceRateBp: e.attendanceRateBp,
        passed: e.passed,
        classId: e.classId,
        institutionId: e.institutionId,
        enrollmentId: e.enrollmentId,
        voucherId: e.voucherId,
        certificateId: e.certificateId,
      })),
      certificates: certificates.map((c) => ({
        id: c.id,
        kind: c.kind,
        occupation: c.occupation,
        level: c.level,
        issuer: c.issuer,
        number: c.number,
        issuedOn: c.issuedOn,
        regionCode: c.regionCode,
      })),
    };
    return {
      format,
      contentType: 'application/json',
      filename: `training-archive-${stamp}.json`,
      entryCount: entries.length,
      generatedAt,
      content: JSON.stringify(document, null, 2),
    };
  }
}
