import { DomainError, ErrorCode } from '@vtv/kit';
import { QueryFailedError, type DataSource, type EntityManager } from 'typeorm';
import {
  RegionRow,
  type AuditRow,
  type CardChannel,
  type CardRow,
  type ClientRow,
  type DepartmentRow,
  type FaceChallengeRow,
  type PersonRow,
  type PinCredentialRow,
  type ProofPurposeName,
  type RoleRow,
  type SignInChallengeRow,
  type StaffUserRow,
} from './entities';

/** Keyset page arguments as the repositories take them. */
export interface Page {
  afterId: string | null;
  limit: number;
}

/** Region subtree filter: a GB/T 2260 code prefix (see regionPrefix), or null for everywhere. */
type Prefix = string | null;

type Raw = Record<string, unknown>;

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driverError = err.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' && (!constraint || driverError.constraint === constraint);
}

/** Converts a unique violation on `constraint` into a CONFLICT; rethrows anything else. */
async function conflictOn<T>(constraint: string, message: string, field: string, work: () => Promise<T>) {
  try {
    return await work();
  } catch (err) {
    if (isUniqueViolation(err, constraint)) throw new DomainError(ErrorCode.CONFLICT, message, field);
    throw err;
  }
}

/**
 * Rows of a statement with RETURNING: TypeORM's postgres driver answers UPDATE and DELETE with
 * [rows, count] and everything else with rows.
 */
function returned(result: unknown): Raw[] {
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as Raw[];
  }
  return result as Raw[];
}

const trimCode = (v: unknown): string => String(v).trim();
const nullableCode = (v: unknown): string | null => (v == null ? null : trimCode(v));

function personRow(r: Raw): PersonRow {
  return {
    id: r.id as string,
    regionCode: trimCode(r.region_code),
    cardIssuedAt: r.card_issued_at as Date,
    idNumberEnc: r.id_number_enc as Buffer,
    nameEnc: r.name_enc as Buffer,
    phoneEnc: r.phone_enc as Buffer,
    piiKeyId: r.pii_key_id as string,
    idBlindIndex: r.id_blind_index as Buffer,
    birthYear: Number(r.birth_year),
  };
}

function cardRow(r: Raw): CardRow {
  return {
    id: r.id as string,
    personId: r.person_id as string,
    regionCode: trimCode(r.region_code),
    status: r.status as CardRow['status'],
    channel: r.channel as CardChannel,
    issuedBy: (r.issued_by as string | null) ?? null,
    issuedAt: r.issued_at as Date,
  };
}

function departmentRow(r: Raw): DepartmentRow {
  return {
    id: r.id as string,
    regionCode: trimCode(r.region_code),
    name: r.name as string,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function roleRow(r: Raw): RoleRow {
  return {
    id: r.id as string,
    regionCode: nullableCode(r.region_code),
    name: r.name as string,
    description: r.description as string,
    permissions: (r.permissions as string[]) ?? [],
    system: r.system as boolean,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function staffRow(r: Raw): StaffUserRow {
  return {
    id: r.id as string,
    regionCode: trimCode(r.region_code),
    departmentId: (r.department_id as string | null) ?? null,
    nameEnc: r.name_enc as Buffer,
    idNumberEnc: r.id_number_enc as Buffer,
    phoneEnc: (r.phone_enc as Buffer | null) ?? null,
    piiKeyId: r.pii_key_id as string,
    idBlindIndex: r.id_blind_index as Buffer,
    enabled: r.enabled as boolean,
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
  };
}

function clientRow(r: Raw): ClientRow {
  return {
    id: r.id as string,
    name: r.name as string,
    regionCode: trimCode(r.region_code),
    permissions: (r.permissions as string[]) ?? [],
    secretHash: r.secret_hash as Buffer,
    enabled: r.enabled as boolean,
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as Date,
    secretRotatedAt: r.secret_rotated_at as Date,
  };
}

function auditRow(r: Raw): AuditRow {
  return {
    id: r.id as string,
    occurredAt: r.occurred_at as Date,
    action: r.action as string,
    actorKind: r.actor_kind as string,
    actorId: (r.actor_id as string | null) ?? null,
    actorRegion: nullableCode(r.actor_region),
    targetType: r.target_type as string,
    targetId: (r.target_id as string | null) ?? null,
    regionCode: nullableCode(r.region_code),
    details: (r.details as Record<string, unknown>) ?? {},
    requestId: (r.request_id as string | null) ?? null,
  };
}

/** Appends `AND <column> LIKE prefix%` and the keyset condition; returns the SQL tail and its params. */
function pageFilter(
  params: unknown[],
  o: { prefix?: Prefix; prefixColumn?: string; page: Page; descending?: boolean },
): string {
  let sql = '';
  if (o.prefix) {
    params.push(`${o.prefix}%`);
    sql += ` AND ${o.prefixColumn ?? 'region_code'} LIKE $${params.length}`;
  }
  if (o.page.afterId) {
    params.push(o.page.afterId);
    sql += ` AND id ${o.descending ? '<' : '>'} $${params.length}::uuid`;
  }
  params.push(o.page.limit + 1);
  return `${sql} ORDER BY id ${o.descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
}

export class RegionRepository {
  constructor(private readonly m: EntityManager) {}

  byCode(code: string): Promise<RegionRow | null> {
    return this.m.getRepository(RegionRow).findOneBy({ code });
  }

  children(parentCode: string | null): Promise<RegionRow[]> {
    const repo = this.m.getRepository(RegionRow);
    return parentCode === null
      ? repo.createQueryBuilder('r').where('r.parent_code IS NULL').orderBy('r.code').getMany()
      : repo.find({ where: { parentCode }, order: { code: 'ASC' } });
  }
}

export interface NewPerson {
  id: string;
  regionCode: string;
  idNumberEnc: Buffer;
  nameEnc: Buffer;
  phoneEnc: Buffer;
  piiKeyId: string;
  idBlindIndex: Buffer;
  birthYear: number;
}

export class PersonRepository {
  constructor(private readonly m: EntityManager) {}

  async byId(id: string): Promise<PersonRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM people WHERE id = $1', [id]);
    return rows[0] ? personRow(rows[0]) : null;
  }

  async byBlindIndex(index: Buffer): Promise<PersonRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM people WHERE id_blind_index = $1', [index]);
    return rows[0] ? personRow(rows[0]) : null;
  }

  async list(prefix: Prefix, page: Page): Promise<PersonRow[]> {
    const params: unknown[] = [];
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM people WHERE true${pageFilter(params, { prefix, page })}`,
      params,
    );
    return rows.map(personRow);
  }

  async insert(p: NewPerson): Promise<PersonRow> {
    const rows: Raw[] = await conflictOn(
      'people_id_blind_index',
      'An e-SSC has already been issued for this ID number',
      'idNumber',
      () =>
        this.m.query(
          `INSERT INTO people (id, region_code, id_number_enc, name_enc, phone_enc, pii_key_id, id_blind_index, birth_year)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
          [p.id, p.regionCode, p.idNumberEnc, p.nameEnc, p.phoneEnc, p.piiKeyId, p.idBlindIndex, p.birthYear],
        ),
    );
    return personRow(rows[0]!);
  }

  /** Rows still encrypted under another key than `keyId`, locked for re-encryption. */
  async lockNotUnderKey(keyId: string, limit: number): Promise<PersonRow[]> {
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM people WHERE pii_key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [keyId, limit],
    );
    return rows.map(personRow);
  }

  async countNotUnderKey(keyId: string): Promise<number> {
    const rows: { n: number }[] = await this.m.query(
      'SELECT count(*)::int AS n FROM people WHERE pii_key_id <> $1',
      [keyId],
    );
    return rows[0]!.n;
  }

  async replacePersonalData(
    id: string,
    d: { idNumberEnc: Buffer; nameEnc: Buffer; phoneEnc: Buffer; piiKeyId: string },
  ): Promise<void> {
    await this.m.query(
      'UPDATE people SET id_number_enc = $2, name_enc = $3, phone_enc = $4, pii_key_id = $5 WHERE id = $1',
      [id, d.idNumberEnc, d.nameEnc, d.phoneEnc, d.piiKeyId],
    );
  }
}

export class CardRepository {
  constructor(private readonly m: EntityManager) {}

  async insert(c: Omit<CardRow, 'issuedAt' | 'status'> & { issuedAt: Date }): Promise<CardRow> {
    const rows: Raw[] = await this.m.query(
      `INSERT INTO social_security_cards (id, person_id, region_code, channel, issued_by, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [c.id, c.personId, c.regionCode, c.channel, c.issuedBy, c.issuedAt],
    );
    return cardRow(rows[0]!);
  }

  async byPerson(personId: string): Promise<CardRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM social_security_cards WHERE person_id = $1', [
      personId,
    ]);
    return rows[0] ? cardRow(rows[0]) : null;
  }
}

export class PinRepository {
  constructor(private readonly m: EntityManager) {}

  private static map(r: Raw): PinCredentialRow {
    return {
      personId: r.person_id as string,
      hash: r.hash as Buffer,
      salt: r.salt as Buffer,
      params: r.params as string,
      failedAttempts: Number(r.failed_attempts),
      lockedUntil: (r.locked_until as Date | null) ?? null,
    };
  }

  async exists(personId: string): Promise<boolean> {
    const rows: unknown[] = await this.m.query('SELECT 1 FROM pin_credentials WHERE person_id = $1', [
      personId,
    ]);
    return rows.length > 0;
  }

  /** The credential, row-locked until the transaction ends: attempts on one person are serialised. */
  async lock(personId: string): Promise<PinCredentialRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM pin_credentials WHERE person_id = $1 FOR UPDATE', [
      personId,
    ]);
    return rows[0] ? PinRepository.map(rows[0]) : null;
  }

  async set(personId: string, h: { hash: Buffer; salt: Buffer; params: string }): Promise<void> {
    await this.m.query(
      `INSERT INTO pin_credentials (person_id, hash, salt, params) VALUES ($1, $2, $3, $4)
       ON CONFLICT (person_id) DO UPDATE SET hash = $2, salt = $3, params = $4, failed_attempts = 0,
         locked_until = NULL, updated_at = now()`,
      [personId, h.hash, h.salt, h.params],
    );
  }

  async recordAttempt(personId: string, failedAttempts: number, lockedUntil: Date | null): Promise<void> {
    await this.m.query(
      'UPDATE pin_credentials SET failed_attempts = $2, locked_until = $3, updated_at = now() WHERE person_id = $1',
      [personId, failedAttempts, lockedUntil],
    );
  }
}

export class FaceChallengeRepository {
  constructor(private readonly m: EntityManager) {}

  async insert(c: Omit<FaceChallengeRow, 'usedAt'>): Promise<void> {
    await this.m.query(
      `INSERT INTO face_challenges (nonce, person_id, purpose, subject, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [c.nonce, c.personId, c.purpose, c.subject, c.expiresAt],
    );
    // Keep the table small: challenges a day past their expiry are of no use to anyone.
    await this.m.query(
      `DELETE FROM face_challenges WHERE nonce IN (
         SELECT nonce FROM face_challenges WHERE expires_at < now() - interval '1 day' LIMIT 100)`,
    );
  }

  /**
   * Marks the challenge used, once: returns it with `usedAt` null when this call consumed it, with the
   * earlier `usedAt` when it had been used before, or null when there is no such challenge.
   */
  async consume(nonce: string): Promise<FaceChallengeRow | null> {
    const map = (r: Raw): FaceChallengeRow => ({
      nonce: r.nonce as string,
      personId: r.person_id as string,
      purpose: r.purpose as ProofPurposeName,
      subject: (r.subject as string | null) ?? null,
      expiresAt: r.expires_at as Date,
      usedAt: (r.used_at as Date | null) ?? null,
    });
    const consumed = returned(
      await this.m.query(
        `UPDATE face_challenges SET used_at = now() WHERE nonce = $1 AND used_at IS NULL
       RETURNING nonce, person_id, purpose, subject, expires_at, NULL::timestamptz AS used_at`,
        [nonce],
      ),
    );
    if (consumed[0]) return map(consumed[0]);
    const existing: Raw[] = await this.m.query('SELECT * FROM face_challenges WHERE nonce = $1', [nonce]);
    return existing[0] ? map(existing[0]) : null;
  }
}

export class DepartmentRepository {
  constructor(private readonly m: EntityManager) {}

  async byId(id: string): Promise<DepartmentRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM departments WHERE id = $1', [id]);
    return rows[0] ? departmentRow(rows[0]) : null;
  }

  async byIds(ids: string[]): Promise<DepartmentRow[]> {
    if (ids.length === 0) return [];
    const rows: Raw[] = await this.m.query('SELECT * FROM departments WHERE id = ANY($1::uuid[])', [ids]);
    return rows.map(departmentRow);
  }

  async list(prefix: Prefix, page: Page): Promise<DepartmentRow[]> {
    const params: unknown[] = [];
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM departments WHERE true${pageFilter(params, { prefix, page })}`,
      params,
    );
    return rows.map(departmentRow);
  }

  async insert(d: { id: string; regionCode: string; name: string }): Promise<DepartmentRow> {
    const rows: Raw[] = await conflictOn(
      'departments_region_code_name_key',
      'A department with this name already exists in the region',
      'name',
      () =>
        this.m.query('INSERT INTO departments (id, region_code, name) VALUES ($1, $2, $3) RETURNING *', [
          d.id,
          d.regionCode,
          d.name,
        ]),
    );
    return departmentRow(rows[0]!);
  }

  async rename(id: string, name: string): Promise<DepartmentRow> {
    const result = await conflictOn(
      'departments_region_code_name_key',
      'A department with this name already exists in the region',
      'name',
      () =>
        this.m.query('UPDATE departments SET name = $2, updated_at = now() WHERE id = $1 RETURNING *', [
          id,
          name,
        ]),
    );
    return departmentRow(returned(result)[0]!);
  }

  async hasMembers(id: string): Promise<boolean> {
    const rows: unknown[] = await this.m.query('SELECT 1 FROM staff_users WHERE department_id = $1 LIMIT 1', [
      id,
    ]);
    return rows.length > 0;
  }

  async delete(id: string): Promise<void> {
    await this.m.query('DELETE FROM departments WHERE id = $1', [id]);
  }
}

export class RoleRepository {
  constructor(private readonly m: EntityManager) {}

  async byId(id: string): Promise<RoleRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM roles WHERE id = $1', [id]);
    return rows[0] ? roleRow(rows[0]) : null;
  }

  async byIds(ids: string[]): Promise<RoleRow[]> {
    if (ids.length === 0) return [];
    const rows: Raw[] = await this.m.query('SELECT * FROM roles WHERE id = ANY($1::uuid[]) ORDER BY id', [
      ids,
    ]);
    return rows.map(roleRow);
  }

  /** System roles, roles of the caller's ancestor regions and roles inside the caller's subtree. */
  async listVisible(ancestors: string[], prefix: string, page: Page): Promise<RoleRow[]> {
    const params: unknown[] = [ancestors, `${prefix}%`];
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM roles WHERE (region_code IS NULL OR region_code = ANY($1::text[]) OR region_code LIKE $2)
       ${pageFilter(params, { page })}`,
      params,
    );
    return rows.map(roleRow);
  }

  async insert(r: {
    id: string;
    regionCode: string;
    name: string;
    description: string;
    permissions: string[];
  }): Promise<RoleRow> {
    const rows: Raw[] = await conflictOn(
      'roles_region_name',
      'A role with this name already exists in the region',
      'name',
      () =>
        this.m.query(
          `INSERT INTO roles (id, region_code, name, description, permissions) VALUES ($1, $2, $3, $4, $5)
           RETURNING *`,
          [r.id, r.regionCode, r.name, r.description, r.permissions],
        ),
    );
    return roleRow(rows[0]!);
  }

  /** Locks the role for an update in this transaction. */
  async lock(id: string): Promise<RoleRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM roles WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? roleRow(rows[0]) : null;
  }

  async update(
    id: string,
    r: { name: string; description: string; permissions: string[] },
  ): Promise<RoleRow> {
    const result = await conflictOn(
      'roles_region_name',
      'A role with this name already exists in the region',
      'name',
      () =>
        this.m.query(
          `UPDATE roles SET name = $2, description = $3, permissions = $4, updated_at = now() WHERE id = $1
           RETURNING *`,
          [id, r.name, r.description, r.permissions],
        ),
    );
    return roleRow(returned(result)[0]!);
  }

  async delete(id: string): Promise<void> {
    await this.m.query('DELETE FROM roles WHERE id = $1', [id]);
  }

  /** Role ids per user. */
  async idsOfUsers(userIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return out;
    const rows: { user_id: string; role_id: string }[] = await this.m.query(
      'SELECT user_id, role_id FROM staff_user_roles WHERE user_id = ANY($1::uuid[]) ORDER BY role_id',
      [userIds],
    );
    for (const r of rows) out.get(r.user_id)?.push(r.role_id);
    return out;
  }

  async ofUser(userId: string): Promise<RoleRow[]> {
    const rows: Raw[] = await this.m.query(
      `SELECT r.* FROM roles r JOIN staff_user_roles ur ON ur.role_id = r.id WHERE ur.user_id = $1 ORDER BY r.id`,
      [userId],
    );
    return rows.map(roleRow);
  }

  /** Replaces a user's roles; returns the role ids before. */
  async setForUser(userId: string, roleIds: string[], grantedBy: string | null): Promise<string[]> {
    const before = returned(
      await this.m.query('DELETE FROM staff_user_roles WHERE user_id = $1 RETURNING role_id', [userId]),
    );
    if (roleIds.length) {
      await this.m.query(
        `INSERT INTO staff_user_roles (user_id, role_id, granted_by)
         SELECT $1, unnest($2::uuid[]), $3`,
        [userId, roleIds, grantedBy],
      );
    }
    return before.map((r) => r.role_id as string).sort();
  }

  /** Members of a role inside a region subtree, in id order. */
  async memberIds(roleId: string, prefix: string, page: Page): Promise<string[]> {
    const params: unknown[] = [roleId];
    const rows: { id: string }[] = await this.m.query(
      `SELECT id FROM staff_users
       WHERE id IN (SELECT user_id FROM staff_user_roles WHERE role_id = $1)${pageFilter(params, { prefix, page })}`,
      params,
    );
    return rows.map((r) => r.id);
  }

  async hasMembers(roleId: string): Promise<boolean> {
    const rows: unknown[] = await this.m.query('SELECT 1 FROM staff_user_roles WHERE role_id = $1 LIMIT 1', [
      roleId,
    ]);
    return rows.length > 0;
  }
}

export interface NewStaffUser {
  id: string;
  regionCode: string;
  departmentId: string | null;
  nameEnc: Buffer;
  idNumberEnc: Buffer;
  phoneEnc: Buffer | null;
  piiKeyId: string;
  idBlindIndex: Buffer;
  createdBy: string | null;
}

export class StaffUserRepository {
  constructor(private readonly m: EntityManager) {}

  async byId(id: string): Promise<StaffUserRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM staff_users WHERE id = $1', [id]);
    return rows[0] ? staffRow(rows[0]) : null;
  }

  async lock(id: string): Promise<StaffUserRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM staff_users WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? staffRow(rows[0]) : null;
  }

  async byIds(ids: string[]): Promise<StaffUserRow[]> {
    if (ids.length === 0) return [];
    const rows: Raw[] = await this.m.query(
      'SELECT * FROM staff_users WHERE id = ANY($1::uuid[]) ORDER BY id',
      [ids],
    );
    return rows.map(staffRow);
  }

  async byBlindIndex(index: Buffer): Promise<StaffUserRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM staff_users WHERE id_blind_index = $1', [index]);
    return rows[0] ? staffRow(rows[0]) : null;
  }

  async count(): Promise<number> {
    const rows: { n: number }[] = await this.m.query('SELECT count(*)::int AS n FROM staff_users');
    return rows[0]!.n;
  }

  async list(prefix: Prefix, o: { enabled?: boolean | null; departmentId?: string | null }, page: Page) {
    const params: unknown[] = [];
    let where = 'true';
    if (o.enabled != null) {
      params.push(o.enabled);
      where += ` AND enabled = $${params.length}`;
    }
    if (o.departmentId) {
      params.push(o.departmentId);
      where += ` AND department_id = $${params.length}::uuid`;
    }
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM staff_users WHERE ${where}${pageFilter(params, { prefix, page })}`,
      params,
    );
    return rows.map(staffRow);
  }

  async insert(u: NewStaffUser): Promise<StaffUserRow> {
    const rows: Raw[] = await conflictOn(
      'staff_users_id_blind_index_key',
      'A staff user with this ID number already exists',
      'idNumber',
      () =>
        this.m.query(
          `INSERT INTO staff_users (id, region_code, department_id, name_enc, id_number_enc, phone_enc, pii_key_id,
             id_blind_index, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
          [
            u.id,
            u.regionCode,
            u.departmentId,
            u.nameEnc,
            u.idNumberEnc,
            u.phoneEnc,
            u.piiKeyId,
            u.idBlindIndex,
            u.createdBy,
          ],
        ),
    );
    return staffRow(rows[0]!);
  }

  async update(
    id: string,
    u: {
      departmentId: string | null;
      nameEnc: Buffer;
      phoneEnc: Buffer | null;
      piiKeyId: string;
      idNumberEnc: Buffer;
    },
  ): Promise<StaffUserRow> {
    const result: unknown = await this.m.query(
      `UPDATE staff_users SET department_id = $2, name_enc = $3, phone_enc = $4, pii_key_id = $5,
         id_number_enc = $6, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, u.departmentId, u.nameEnc, u.phoneEnc, u.piiKeyId, u.idNumberEnc],
    );
    return staffRow(returned(result)[0]!);
  }

  async setEnabled(id: string, enabled: boolean): Promise<StaffUserRow> {
    const result: unknown = await this.m.query(
      'UPDATE staff_users SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING *',
      [id, enabled],
    );
    return staffRow(returned(result)[0]!);
  }

  async lockNotUnderKey(keyId: string, limit: number): Promise<StaffUserRow[]> {
    const rows: Raw[] = await this.m.query(
      'SELECT * FROM staff_users WHERE pii_key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED',
      [keyId, limit],
    );
    return rows.map(staffRow);
  }

  async countNotUnderKey(keyId: string): Promise<number> {
    const rows: { n: number }[] = await this.m.query(
      'SELECT count(*)::int AS n FROM staff_users WHERE pii_key_id <> $1',
      [keyId],
    );
    return rows[0]!.n;
  }
}

export class ClientRepository {
  constructor(private readonly m: EntityManager) {}

  async byId(id: string): Promise<ClientRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM clients WHERE id = $1', [id]);
    return rows[0] ? clientRow(rows[0]) : null;
  }

  async list(prefix: Prefix, page: Page): Promise<ClientRow[]> {
    const params: unknown[] = [];
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM clients WHERE true${pageFilter(params, { prefix, page })}`,
      params,
    );
    return rows.map(clientRow);
  }

  async insert(c: {
    id: string;
    name: string;
    regionCode: string;
    permissions: string[];
    secretHash: Buffer;
    createdBy: string | null;
  }): Promise<ClientRow> {
    const rows: Raw[] = await this.m.query(
      `INSERT INTO clients (id, name, region_code, permissions, secret_hash, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [c.id, c.name, c.regionCode, c.permissions, c.secretHash, c.createdBy],
    );
    return clientRow(rows[0]!);
  }

  async setEnabled(id: string, enabled: boolean): Promise<ClientRow> {
    const result: unknown = await this.m.query('UPDATE clients SET enabled = $2 WHERE id = $1 RETURNING *', [
      id,
      enabled,
    ]);
    return clientRow(returned(result)[0]!);
  }

  async setSecret(id: string, secretHash: Buffer): Promise<ClientRow> {
    const result: unknown = await this.m.query(
      'UPDATE clients SET secret_hash = $2, secret_rotated_at = now() WHERE id = $1 RETURNING *',
      [id, secretHash],
    );
    return clientRow(returned(result)[0]!);
  }
}

export class SignInChallengeRepository {
  constructor(private readonly m: EntityManager) {}

  private static map(r: Raw): SignInChallengeRow {
    return {
      id: r.id as string,
      secretHash: r.secret_hash as Buffer,
      status: r.status as SignInChallengeRow['status'],
      staffUserId: (r.staff_user_id as string | null) ?? null,
      createdAt: r.created_at as Date,
      expiresAt: r.expires_at as Date,
    };
  }

  async insert(c: { id: string; secretHash: Buffer; expiresAt: Date }): Promise<void> {
    await this.m.query('INSERT INTO sign_in_challenges (id, secret_hash, expires_at) VALUES ($1, $2, $3)', [
      c.id,
      c.secretHash,
      c.expiresAt,
    ]);
    await this.m.query(
      `DELETE FROM sign_in_challenges WHERE id IN (
         SELECT id FROM sign_in_challenges WHERE expires_at < now() - interval '1 day' LIMIT 100)`,
    );
  }

  async lock(id: string): Promise<SignInChallengeRow | null> {
    const rows: Raw[] = await this.m.query('SELECT * FROM sign_in_challenges WHERE id = $1 FOR UPDATE', [id]);
    return rows[0] ? SignInChallengeRepository.map(rows[0]) : null;
  }

  async confirm(id: string, staffUserId: string): Promise<void> {
    await this.m.query(
      `UPDATE sign_in_challenges SET status = 'CONFIRMED', staff_user_id = $2, confirmed_at = now() WHERE id = $1`,
      [id, staffUserId],
    );
  }

  async markExchanged(id: string): Promise<void> {
    await this.m.query(
      `UPDATE sign_in_challenges SET status = 'EXCHANGED', exchanged_at = now() WHERE id = $1`,
      [id],
    );
  }
}

export interface NewAuditEntry {
  id: string;
  action: string;
  actorKind: string;
  actorId: string | null;
  actorRegion: string | null;
  targetType: string;
  targetId: string | null;
  regionCode: string | null;
  details: Record<string, unknown>;
  requestId: string | null;
}

export class AuditRepository {
  constructor(private readonly m: EntityManager) {}

  async append(e: NewAuditEntry): Promise<void> {
    await this.m.query(
      `INSERT INTO audit_log (id, action, actor_kind, actor_id, actor_region, target_type, target_id, region_code,
         details, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.id,
        e.action,
        e.actorKind,
        e.actorId,
        e.actorRegion,
        e.targetType,
        e.targetId,
        e.regionCode,
        JSON.stringify(e.details),
        e.requestId,
      ],
    );
  }

  /** Newest first. */
  async list(
    prefix: string,
    o: { action?: string | null; targetId?: string | null },
    page: Page,
  ): Promise<AuditRow[]> {
    const params: unknown[] = [];
    let where = 'true';
    if (o.action) {
      params.push(o.action);
      where += ` AND action = $${params.length}`;
    }
    if (o.targetId) {
      params.push(o.targetId);
      where += ` AND target_id = $${params.length}`;
    }
    const rows: Raw[] = await this.m.query(
      `SELECT * FROM audit_log WHERE ${where}${pageFilter(params, { prefix, page, descending: true })}`,
      params,
    );
    return rows.map(auditRow);
  }
}

/** Every repository over one EntityManager: the pool's, or a transaction's. */
export class Repositories {
  readonly regions: RegionRepository;
  readonly people: PersonRepository;
  readonly cards: CardRepository;
  readonly pins: PinRepository;
  readonly faceChallenges: FaceChallengeRepository;
  readonly departments: DepartmentRepository;
  readonly roles: RoleRepository;
  readonly staff: StaffUserRepository;
  readonly clients: ClientRepository;
  readonly signIns: SignInChallengeRepository;
  readonly audit: AuditRepository;

  constructor(readonly manager: EntityManager) {
    this.regions = new RegionRepository(manager);
    this.people = new PersonRepository(manager);
    this.cards = new CardRepository(manager);
    this.pins = new PinRepository(manager);
    this.faceChallenges = new FaceChallengeRepository(manager);
    this.departments = new DepartmentRepository(manager);
    this.roles = new RoleRepository(manager);
    this.staff = new StaffUserRepository(manager);
    this.clients = new ClientRepository(manager);
    this.signIns = new SignInChallengeRepository(manager);
    this.audit = new AuditRepository(manager);
  }
}

/** Reads through the pool; writes in one transaction whose manager every repository shares. */
export class Store {
  readonly read: Repositories;

  constructor(private readonly ds: DataSource) {
    this.read = new Repositories(ds.manager);
  }

  transaction<T>(work: (r: Repositories) => Promise<T>): Promise<T> {
    return this.ds.transaction((manager) => work(new Repositories(manager)));
  }
}
