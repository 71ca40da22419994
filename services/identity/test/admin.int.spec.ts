/**
 * HRSS administration against real PostgreSQL and Redis, following the administrator guide: the
 * bootstrapped provincial administrator signs in by QR (challenge → confirmed by their e-SSC → exchanged),
 * sets up departments, roles (发券经办) and users; the hierarchy holds (a province manages its cities, a
 * city its districts, nobody outside their subtree, and out-of-scope looks like not-found); every change
 * is audited in an append-only log and published without personal data.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { StaffRoleChangedSchema } from '@vtv/events';
import { ALL_PERMISSIONS, TokenVerifier, uuidv7, type Caller } from '@vtv/kit';
import { startService } from '@vtv/runtime';
import { identity } from '../src/service';
import {
  ISSUE,
  issuePerson,
  person,
  staff,
  startIdentity,
  syntheticIdNumber,
  syntheticPhone,
  type Harness,
} from './helpers';

let h: Harness;
let verifier: TokenVerifier;
const ADMIN_ID_NUMBER = syntheticIdNumber();
let provinceAdmin: Caller;
let provinceAdminPersonId: string;

const CREATE_CHALLENGE = `mutation { createSignInChallenge { challengeId secret qrContent expiresAt errors { code } } }`;
const CONFIRM = `mutation ($id: ID!) { confirmSignInChallenge(challengeId: $id) { confirmed errors { code field } } }`;
const EXCHANGE = `mutation ($input: ExchangeSignInChallengeInput!) {
  exchangeSignInChallenge(input: $input) { accessToken expiresAt staffUser { id region { code } permissions } errors { code field } }
}`;

interface Challenge {
  challengeId: string;
  secret: string;
  qrContent: string;
  expiresAt: string;
}

async function challenge(): Promise<Challenge> {
  const res = await h.gql<{ createSignInChallenge: Challenge & { errors: unknown[] } }>(
    null,
    CREATE_CHALLENGE,
  );
  expect(res.data.createSignInChallenge.errors).toEqual([]);
  return res.data.createSignInChallenge;
}

type ExchangeResult = {
  exchangeSignInChallenge: {
    accessToken: string | null;
    staffUser: { id: string; region: { code: string }; permissions: string[] } | null;
    errors: { code: string }[];
  };
};

const exchange = (c: Challenge, secret = c.secret) =>
  h.gql<ExchangeResult>(null, EXCHANGE, { input: { challengeId: c.challengeId, secret } });

/** The whole console sign-in: the QR challenge, confirmed by the person's e-SSC session, exchanged. */
async function qrSignIn(personId: string): Promise<Caller> {
  const c = await challenge();
  const confirmed = await h.gql<{ confirmSignInChallenge: { errors: unknown[] } }>(
    person(personId),
    CONFIRM,
    {
      id: c.qrContent,
    },
  );
  expect(confirmed.data.confirmSignInChallenge.errors).toEqual([]);
  const res = await exchange(c);
  expect(res.data.exchangeSignInChallenge.errors).toEqual([]);
  return verifier.verify(res.data.exchangeSignInChallenge.accessToken!);
}

type Errors = { code: string; field: string | null; message?: string }[];

async function mutate<T = Record<string, unknown>>(
  caller: Caller,
  name: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T & { errors: Errors }> {
  const res = await h.gql<Record<string, T & { errors: Errors }>>(caller, query, variables);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data[name]!;
}

const CREATE_DEPARTMENT = `mutation ($input: CreateDepartmentInput!) { createDepartment(input: $input) { department { id name region { code } } errors { code field } } }`;
const CREATE_ROLE = `mutation ($input: CreateRoleInput!) { createRole(input: $input) { role { id name permissions region { code } builtIn } errors { code field message } } }`;
const UPDATE_ROLE = `mutation ($input: UpdateRoleInput!) { updateRole(input: $input) { role { id permissions } errors { code field } } }`;
const CREATE_USER = `mutation ($input: CreateStaffUserInput!) {
  createStaffUser(input: $input) {
    staffUser { id maskedName maskedIdNumber maskedPhone enabled region { code } department { name } roles { name } permissions }
    errors { code field message }
  }
}`;
const SET_ROLES = `mutation ($input: SetStaffUserRolesInput!) { setStaffUserRoles(input: $input) { staffUser { id roles { id } permissions } errors { code field message } } }`;
const ASSIGN = `mutation ($input: SetRoleAssignmentInput!) { setRoleAssignment(input: $input) { staffUser { id roles { name } } errors { code field } } }`;
const SET_ENABLED = `mutation ($input: SetStaffUserEnabledInput!) { setStaffUserEnabled(input: $input) { staffUser { id enabled } errors { code field message } } }`;
const STAFF_USER = `query ($id: ID!) { staffUser(id: $id) { id maskedName } }`;

beforeAll(async () => {
  h = await startIdentity(
    {
      BOOTSTRAP_ADMIN_ID_NUMBER: ADMIN_ID_NUMBER,
      BOOTSTRAP_ADMIN_NAME: '省级管理员',
      BOOTSTRAP_ADMIN_REGION_CODE: '420000',
    },
    'identity_admin',
  );
  verifier = new TokenVerifier({ jwksUrl: new URL('/.well-known/jwks.json', h.running.url).toString() });
  // The administrator opens their own e-SSC (labourer guide: 开通电子社保卡) and signs in to the console by QR.
  provinceAdminPersonId = (
    await issuePerson(h, { idNumber: ADMIN_ID_NUMBER, name: '省级管理员', regionCode: '420106' })
  ).id;
  provinceAdmin = await qrSignIn(provinceAdminPersonId);
});

afterAll(async () => {
  await h?.stop();
});

describe('bootstrap and QR sign-in (系统登录)', () => {
  test('the bootstrapped administrator holds every permission in the province, and bootstrap is idempotent', async () => {
    expect(provinceAdmin).toMatchObject({ kind: 'staff', regionCode: '420000' });
    expect([...provinceAdmin.permissions].sort()).toEqual([...ALL_PERMISSIONS].sort());
    // A second replica starting with the same configuration creates nobody.
    const replica = await startService(identity, { env: h.env });
    await replica.stop('test done');
    const admins = await h.running.deps.ds.query('SELECT id FROM staff_users');
    expect(admins).toHaveLength(1);
    const rows = await h.running.deps.ds.query(
      `SELECT action FROM audit_log WHERE action = 'STAFF_BOOTSTRAPPED'`,
    );
    expect(rows).toHaveLength(1);
  });

  test('happy path: pending until confirmed, then one exchange', async () => {
    const c = await challenge();
    expect(c.qrContent).toBe(`vtv-signin:${c.challengeId}`);
    const ttl = new Date(c.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);

    expect((await exchange(c)).data.exchangeSignInChallenge.errors).toEqual([
      expect.objectContaining({ code: 'SIGN_IN_CHALLENGE_PENDING' }),
    ]);
    const confirmed = await h.gql(person(provinceAdminPersonId), CONFIRM, { id: c.challengeId });
    expect(confirmed.data).toEqual({ confirmSignInChallenge: { confirmed: true, errors: [] } });

    // Seeing the QR code is not enough to take the session: the console's secret is needed.
    const stolen = await exchange(c, 'vtvqs_guessed-secret');
    expect(stolen.data.exchangeSignInChallenge.errors).toEqual([
      expect.objectContaining({ code: 'SIGN_IN_CHALLENGE_NOT_FOUND' }),
    ]);

    const ok = await exchange(c);
    expect(ok.data.exchangeSignInChallenge.staffUser).toMatchObject({ region: { code: '420000' } });
    const caller = await verifier.verify(ok.data.exchangeSignInChallenge.accessToken!);
    expect(caller.id).toBe(ok.data.exchangeSignInChallenge.staffUser!.id);

    // Single use, from either side.
    expect((await exchange(c)).data.exchangeSignInChallenge).toMatchObject({
      accessToken: null,
      errors: [expect.objectContaining({ code: 'SIGN_IN_CHALLENGE_USED' })],
    });
    const reconfirm = await h.gql(person(provinceAdminPersonId), CONFIRM, { id: c.challengeId });
    expect(reconfirm.data).toMatchObject({
      confirmSignInChallenge: { errors: [{ code: 'SIGN_IN_CHALLENGE_USED' }] },
    });

    const [audit] = await h.running.deps.ds.query(
      `SELECT actor_kind, actor_id, details FROM audit_log WHERE action = 'STAFF_SIGNED_IN' AND details->>'challengeId' = $1`,
      [c.challengeId],
    );
    expect(audit).toMatchObject({ actor_kind: 'staff', actor_id: caller.id, details: { method: 'QR' } });
  });

  test('challenges expire, before and after confirmation', async () => {
    const expire = (c: Challenge) =>
      h.running.deps.ds.query(
        `UPDATE sign_in_challenges SET expires_at = now() - interval '1 s' WHERE id = $1`,
        [c.challengeId],
      );
    const unconfirmed = await challenge();
    await expire(unconfirmed);
    const late = await h.gql(person(provinceAdminPersonId), CONFIRM, { id: unconfirmed.challengeId });
    expect(late.data).toMatchObject({
      confirmSignInChallenge: { confirmed: null, errors: [{ code: 'SIGN_IN_CHALLENGE_EXPIRED' }] },
    });

    const confirmed = await challenge();
    await h.gql(person(provinceAdminPersonId), CONFIRM, { id: confirmed.challengeId });
    await expire(confirmed);
    expect((await exchange(confirmed)).data.exchangeSignInChallenge).toMatchObject({
      accessToken: null,
      errors: [expect.objectContaining({ code: 'SIGN_IN_CHALLENGE_EXPIRED' })],
    });
  });

  test('only a registered, enabled staff member can confirm, and only with an e-SSC session', async () => {
    const labourer = await issuePerson(h);
    const c = await challenge();
    const notStaff = await h.gql(person(labourer.id), CONFIRM, { id: c.challengeId });
    expect(notStaff.data).toMatchObject({ confirmSignInChallenge: { errors: [{ code: 'NOT_STAFF' }] } });
    const anonymous = await h.gql(null, CONFIRM, { id: c.challengeId });
    expect(anonymous.data).toMatchObject({
      confirmSignInChallenge: { errors: [{ code: 'UNAUTHENTICATED' }] },
    });
    const unknown = await h.gql(person(labourer.id), CONFIRM, { id: uuidv7() });
    expect(unknown.data).toMatchObject({
      confirmSignInChallenge: { errors: [{ code: 'SIGN_IN_CHALLENGE_NOT_FOUND' }] },
    });
  });
});

describe('administration within the hierarchy (系统设置及管理)', () => {
  let cityAdmin: Caller;
  let cityAdminUserId: string;
  let districtUserId: string;
  let districtPerson: { id: string; idNumber: string };
  let issuerRoleId: string;
  let settlementRoleId: string;
  let departmentId: string;

  beforeAll(async () => {
    // 机构管理: a department of the Wuhan bureau.
    const dept = await mutate<{ department: { id: string } }>(
      provinceAdmin,
      'createDepartment',
      CREATE_DEPARTMENT,
      {
        input: { regionCode: '420100', name: '职建科' },
      },
    );
    expect(dept.errors).toEqual([]);
    departmentId = dept.department.id;

    // 角色管理: the guide's example role, and a city administrator role.
    const issuer = await mutate<{ role: { id: string; permissions: string[] } }>(
      provinceAdmin,
      'createRole',
      CREATE_ROLE,
      {
        input: { regionCode: '420100', name: '发券经办', permissions: ['vouchers:read', 'vouchers:issue'] },
      },
    );
    expect(issuer.errors).toEqual([]);
    expect(issuer.role.permissions).toEqual(['vouchers:issue', 'vouchers:read']);
    issuerRoleId = issuer.role.id;
    const cityRole = await mutate<{ role: { id: string } }>(provinceAdmin, 'createRole', CREATE_ROLE, {
      input: {
        regionCode: '420100',
        name: '市局系统管理员',
        permissions: [
          'admin:users:read',
          'admin:users:write',
          'admin:roles:write',
          'admin:departments:write',
          'audit:read',
          'vouchers:issue',
          'vouchers:read',
          'person:read',
        ],
      },
    });
    const settlement = await mutate<{ role: { id: string } }>(provinceAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420100', name: '结算查询', permissions: ['settlement:read'] },
    });
    settlementRoleId = settlement.role.id;

    // 用户管理: the city administrator, who then signs in with their own e-SSC.
    const cityIdNumber = syntheticIdNumber();
    const created = await mutate<{ staffUser: { id: string } }>(
      provinceAdmin,
      'createStaffUser',
      CREATE_USER,
      {
        input: {
          regionCode: '420100',
          departmentId,
          name: '市局管理员',
          idNumber: cityIdNumber,
          phone: syntheticPhone(),
          roleIds: [cityRole.role.id],
        },
      },
    );
    expect(created.errors).toEqual([]);
    cityAdminUserId = created.staffUser.id;
    const cityPerson = await issuePerson(h, { idNumber: cityIdNumber, regionCode: '420102' });
    cityAdmin = await qrSignIn(cityPerson.id);

    const districtIdNumber = syntheticIdNumber();
    const district = await mutate<{ staffUser: { id: string; permissions: string[] } }>(
      cityAdmin,
      'createStaffUser',
      CREATE_USER,
      {
        input: {
          regionCode: '420102',
          name: '欧阳经办',
          idNumber: districtIdNumber,
          roleIds: [issuerRoleId],
        },
      },
    );
    expect(district.errors).toEqual([]);
    districtUserId = district.staffUser.id;
    districtPerson = {
      ...(await issuePerson(h, { idNumber: districtIdNumber, regionCode: '420102' })),
      idNumber: districtIdNumber,
    };
  });

  test('a city administrator signs in with their region and only their roles’ permissions', () => {
    expect(cityAdmin).toMatchObject({ kind: 'staff', id: cityAdminUserId, regionCode: '420100' });
    expect(cityAdmin.permissions).toContain('admin:users:write');
    expect(cityAdmin.permissions).not.toContain('person:reveal');
  });

  test('发券经办 holds only voucher management', async () => {
    const districtStaff = await qrSignIn(districtPerson.id);
    expect(districtStaff).toMatchObject({
      regionCode: '420102',
      permissions: ['vouchers:issue', 'vouchers:read'],
    });
    const cannotAdminister = await mutate(districtStaff, 'createDepartment', CREATE_DEPARTMENT, {
      input: { regionCode: '420102', name: '信息科' },
    });
    expect(cannotAdminister.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
  });

  test('users are masked in lists', async () => {
    const res = await h.gql<{ staffUsers: { edges: { node: Record<string, unknown> }[] } }>(
      cityAdmin,
      `{ staffUsers(first: 50) { edges { node { id maskedName maskedIdNumber maskedPhone department { name } region { code } } } } }`,
    );
    const nodes = res.data.staffUsers.edges.map((e) => e.node);
    expect(nodes.map((n) => n.id).sort()).toEqual([cityAdminUserId, districtUserId].sort());
    expect(nodes.find((n) => n.id === districtUserId)).toMatchObject({
      maskedName: '欧阳**',
      maskedIdNumber: `${districtPerson.idNumber.slice(0, 4)}**********${districtPerson.idNumber.slice(14)}`,
      maskedPhone: null,
    });
    expect(nodes.find((n) => n.id === cityAdminUserId)).toMatchObject({
      maskedName: '市****',
      department: { name: '职建科' },
      maskedPhone: expect.stringMatching(/^199\*{4}\d{4}$/),
    });
  });

  test('a city cannot act above or beside itself, and that looks like not-found', async () => {
    const pingdingshan = await mutate(cityAdmin, 'createStaffUser', CREATE_USER, {
      input: { regionCode: '410400', name: '平顶山', idNumber: syntheticIdNumber() },
    });
    const above = await mutate(cityAdmin, 'createStaffUser', CREATE_USER, {
      input: { regionCode: '420000', name: '省厅', idNumber: syntheticIdNumber() },
    });
    const nowhere = await mutate(cityAdmin, 'createStaffUser', CREATE_USER, {
      input: { regionCode: '429999', name: '不存在', idNumber: syntheticIdNumber() },
    });
    for (const r of [pingdingshan, above, nowhere]) {
      expect(r).toEqual({
        staffUser: null,
        errors: [{ code: 'NOT_FOUND', field: 'regionCode', message: 'Region not found' }],
      });
    }

    // The province's own administrator is outside the city's subtree: invisible and untouchable.
    const provinceUserId = provinceAdmin.id!;
    expect((await h.gql(cityAdmin, STAFF_USER, { id: provinceUserId })).data).toEqual({ staffUser: null });
    const disableAbove = await mutate(cityAdmin, 'setStaffUserEnabled', SET_ENABLED, {
      input: { userId: provinceUserId, enabled: false },
    });
    const disableMissing = await mutate(cityAdmin, 'setStaffUserEnabled', SET_ENABLED, {
      input: { userId: uuidv7(), enabled: false },
    });
    expect(disableAbove).toEqual(disableMissing);
    expect(disableAbove.errors).toEqual([
      { code: 'NOT_FOUND', field: 'userId', message: 'Staff user not found' },
    ]);

    // Another province's administrator sees nothing of Wuhan.
    const henanAdmin = staff('410000', [...ALL_PERMISSIONS]);
    expect((await h.gql(henanAdmin, STAFF_USER, { id: districtUserId })).data).toEqual({ staffUser: null });
    const rolesOut = await mutate(henanAdmin, 'setStaffUserRoles', SET_ROLES, {
      input: { userId: districtUserId, roleIds: [] },
    });
    const rolesMissing = await mutate(henanAdmin, 'setStaffUserRoles', SET_ROLES, {
      input: { userId: uuidv7(), roleIds: [] },
    });
    expect(rolesOut).toEqual(rolesMissing);
    const henanRoles = await h.gql<{ roles: { edges: { node: { name: string } }[] } }>(
      henanAdmin,
      `{ roles(first: 100) { edges { node { name } } } }`,
    );
    expect(henanRoles.data.roles.edges.map((e) => e.node.name)).toEqual(['系统管理员']);
    const updateOut = await mutate(henanAdmin, 'updateRole', UPDATE_ROLE, {
      input: { id: issuerRoleId, permissions: ['vouchers:read'] },
    });
    expect(updateOut.errors).toEqual([{ code: 'NOT_FOUND', field: 'id' }]);
  });

  test('the province manages its cities: it sees and changes Wuhan’s users', async () => {
    expect((await h.gql(provinceAdmin, STAFF_USER, { id: districtUserId })).data).toMatchObject({
      staffUser: { id: districtUserId, maskedName: '欧阳**' },
    });
  });

  test('nobody grants what they do not hold, nor administers themself', async () => {
    const escalate = await mutate(cityAdmin, 'setRoleAssignment', ASSIGN, {
      input: { roleId: settlementRoleId, userId: districtUserId, assigned: true },
    });
    expect(escalate.errors).toEqual([
      expect.objectContaining({ code: 'PERMISSION_NOT_HELD', field: 'roleIds' }),
    ]);
    const newRole = await mutate(cityAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420102', name: '揭示', permissions: ['person:reveal'] },
    });
    expect(newRole.errors).toEqual([expect.objectContaining({ code: 'PERMISSION_NOT_HELD' })]);
    const unknown = await mutate(cityAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420102', name: '通配', permissions: ['vouchers:*'] },
    });
    expect(unknown.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_PERMISSION' })]);
    const self = await mutate(cityAdmin, 'setStaffUserEnabled', SET_ENABLED, {
      input: { userId: cityAdminUserId, enabled: false },
    });
    expect(self.errors).toEqual([expect.objectContaining({ code: 'SELF_ADMINISTRATION' })]);
    const builtIn = await mutate(provinceAdmin, 'updateRole', UPDATE_ROLE, {
      input: { id: '00000000-0000-7000-8000-000000000001', permissions: [] },
    });
    expect(builtIn.errors).toEqual([expect.objectContaining({ code: 'ROLE_BUILT_IN' })]);
  });

  test('a role change is audited and published without personal data', async () => {
    const cityOnly = await mutate<{ role: { id: string } }>(cityAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420102', name: '人员查询', permissions: ['person:read'] },
    });
    expect(cityOnly.errors).toEqual([]);
    const changed = await mutate<{ staffUser: { permissions: string[] } }>(
      cityAdmin,
      'setStaffUserRoles',
      SET_ROLES,
      {
        input: { userId: districtUserId, roleIds: [issuerRoleId, cityOnly.role.id] },
      },
    );
    expect(changed.errors).toEqual([]);
    expect(changed.staffUser.permissions).toEqual(['person:read', 'vouchers:issue', 'vouchers:read']);

    const log = await h.gql<{
      auditLog: { edges: { node: { action: string; actorId: string; details: string } }[] };
    }>(
      cityAdmin,
      `query ($t: ID) { auditLog(action: STAFF_ROLES_CHANGED, targetId: $t, first: 5) { edges { node { action actorId details } } } }`,
      { t: districtUserId },
    );
    const [record] = log.data.auditLog.edges.map((e) => e.node);
    expect(record).toMatchObject({ action: 'STAFF_ROLES_CHANGED', actorId: cityAdminUserId });
    expect(JSON.parse(record!.details)).toMatchObject({
      before: [issuerRoleId],
      added: [cityOnly.role.id],
      removed: [],
      permissions: ['person:read', 'vouchers:issue', 'vouchers:read'],
    });

    const [event] = await h.running.deps.ds.query(
      `SELECT payload FROM outbox WHERE type = 'vtv.identity.v1.StaffRoleChanged' AND key = $1 ORDER BY id DESC LIMIT 1`,
      [districtUserId],
    );
    expect(fromBinary(StaffRoleChangedSchema, event.payload)).toMatchObject({
      staffUserId: districtUserId,
      regionCode: '420102',
      addedRoleIds: [cityOnly.role.id],
      actorId: cityAdminUserId,
    });
    expect(Buffer.from(event.payload).includes(Buffer.from(districtPerson.idNumber))).toBe(false);

    // 取消授权 from the role's side.
    const revoked = await mutate<{ staffUser: { roles: { name: string }[] } }>(
      cityAdmin,
      'setRoleAssignment',
      ASSIGN,
      {
        input: { roleId: cityOnly.role.id, userId: districtUserId, assigned: false },
      },
    );
    expect(revoked.staffUser.roles.map((r) => r.name)).toEqual(['发券经办']);

    // A role's permission change is audited too.
    const updated = await mutate(cityAdmin, 'updateRole', UPDATE_ROLE, {
      input: { id: cityOnly.role.id, permissions: ['person:read', 'vouchers:read'] },
    });
    expect(updated.errors).toEqual([]);
    const [roleAudit] = await h.running.deps.ds.query(
      `SELECT details FROM audit_log WHERE action = 'ROLE_UPDATED' AND target_id = $1`,
      [cityOnly.role.id],
    );
    expect(roleAudit.details).toMatchObject({ addedPermissions: ['vouchers:read'], removedPermissions: [] });
  });

  test('disabling a user stops their sign-in; both are audited', async () => {
    const disabled = await mutate(cityAdmin, 'setStaffUserEnabled', SET_ENABLED, {
      input: { userId: districtUserId, enabled: false },
    });
    expect(disabled).toMatchObject({ staffUser: { enabled: false }, errors: [] });
    const c = await challenge();
    const refused = await h.gql(person(districtPerson.id), CONFIRM, { id: c.challengeId });
    expect(refused.data).toMatchObject({
      confirmSignInChallenge: { errors: [{ code: 'STAFF_USER_DISABLED' }] },
    });
    await mutate(cityAdmin, 'setStaffUserEnabled', SET_ENABLED, {
      input: { userId: districtUserId, enabled: true },
    });
    const actions: { action: string }[] = await h.running.deps.ds.query(
      `SELECT action FROM audit_log WHERE target_id = $1 AND action IN ('STAFF_USER_DISABLED', 'STAFF_USER_ENABLED') ORDER BY id`,
      [districtUserId],
    );
    expect(actions.map((a) => a.action)).toEqual(['STAFF_USER_DISABLED', 'STAFF_USER_ENABLED']);
  });

  test('roles visible to a city: built-in, its own, its province’s and its districts’', async () => {
    await mutate(provinceAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420000', name: '省级发券', permissions: ['vouchers:issue'] },
    });
    await mutate(provinceAdmin, 'createRole', CREATE_ROLE, {
      input: { regionCode: '420500', name: '宜昌发券', permissions: ['vouchers:issue'] },
    });
    const res = await h.gql<{ roles: { edges: { node: { name: string } }[] } }>(
      cityAdmin,
      `{ roles(first: 100) { edges { node { name } } } }`,
    );
    const names = res.data.roles.edges.map((e) => e.node.name);
    expect(names).toEqual(expect.arrayContaining(['系统管理员', '发券经办', '省级发券', '人员查询']));
    expect(names).not.toContain('宜昌发券');
  });

  test('the audit log is readable within one’s subtree only', async () => {
    const q = `{ auditLog(first: 100) { edges { node { action regionCode } } } }`;
    const city = await h.gql<{ auditLog: { edges: { node: { action: string; regionCode: string } }[] } }>(
      cityAdmin,
      q,
    );
    const cityRecords = city.data.auditLog.edges.map((e) => e.node);
    expect(cityRecords.length).toBeGreaterThan(0);
    expect(cityRecords.every((r) => r.regionCode.startsWith('4201'))).toBe(true);
    expect(cityRecords.some((r) => r.action === 'STAFF_BOOTSTRAPPED')).toBe(false);
    const province = await h.gql<{ auditLog: { edges: { node: { action: string } }[] } }>(provinceAdmin, q);
    expect(province.data.auditLog.edges.some((e) => e.node.action === 'STAFF_BOOTSTRAPPED')).toBe(true);
    const henan = await h.gql<{ auditLog: { edges: unknown[] } }>(staff('410000', ['audit:read']), q);
    expect(henan.data.auditLog.edges).toEqual([]);
    const noPermission = await h.gql(staff('420100', ['vouchers:issue']), q);
    expect(noPermission.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('the audit log is append-only', () => {
  test('rows cannot be updated, deleted or truncated, even with direct SQL', async () => {
    const { ds } = h.running.deps;
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM audit_log');
    expect(n).toBeGreaterThan(0);
    await expect(ds.query(`UPDATE audit_log SET action = 'ROLE_CREATED'`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(ds.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    const [{ n: after }] = await ds.query('SELECT count(*)::int AS n FROM audit_log');
    expect(after).toBe(n);
  });
});

describe('machine clients for integrators (接入方)', () => {
  const CREATE = `mutation ($input: CreateClientInput!) { createClient(input: $input) { client { id name permissions region { code } enabled } clientSecret errors { code field message } } }`;
  const SIGN_IN = `mutation ($input: SignInClientInput!) { signInClient(input: $input) { accessToken expiresAt errors { code field } } }`;

  test('client credentials give a scoped, regional token; secrets rotate; disabled clients are refused', async () => {
    const created = await mutate<{ client: { id: string; permissions: string[] }; clientSecret: string }>(
      provinceAdmin,
      'createClient',
      CREATE,
      {
        input: {
          name: '湖北12333 电子社保卡签发渠道',
          regionCode: '420000',
          permissions: ['person:card:issue', 'person:read'],
        },
      },
    );
    expect(created.errors).toEqual([]);
    expect(created.clientSecret).toMatch(/^vtvcs_[A-Za-z0-9_-]{43}$/);
    const { id: clientId } = created.client;

    const signIn = (clientSecret: string, scopes?: string[]) =>
      h.gql<{ signInClient: { accessToken: string | null; errors: { code: string }[] } }>(null, SIGN_IN, {
        input: { clientId, clientSecret, scopes },
      });
    const full = await signIn(created.clientSecret);
    const fullCaller = await verifier.verify(full.data.signInClient.accessToken!);
    expect(fullCaller).toEqual({
      kind: 'client',
      id: clientId,
      regionCode: '420000',
      permissions: ['person:card:issue', 'person:read'],
    });
    const scoped = await verifier.verify(
      (await signIn(created.clientSecret, ['person:card:issue'])).data.signInClient.accessToken!,
    );
    expect(scoped.permissions).toEqual(['person:card:issue']);
    expect((await signIn(created.clientSecret, ['vouchers:issue'])).data.signInClient.errors[0]!.code).toBe(
      'CLIENT_SCOPE_NOT_GRANTED',
    );
    expect((await signIn('vtvcs_wrong')).data.signInClient.errors[0]!.code).toBe(
      'CLIENT_CREDENTIALS_INVALID',
    );

    // The channel issues e-SSCs inside its province.
    const issued = await h.gql<{ issueCard: { person: { card: { channel: string } }; errors: unknown[] } }>(
      fullCaller,
      ISSUE,
      {
        input: { name: '孙八', idNumber: syntheticIdNumber(), phone: syntheticPhone(), regionCode: '420900' },
      },
    );
    expect(issued.data.issueCard.errors).toEqual([]);
    expect(issued.data.issueCard.person.card.channel).toBe('CLIENT');

    const rotated = await mutate<{ clientSecret: string }>(
      provinceAdmin,
      'rotateClientSecret',
      `mutation ($id: ID!) { rotateClientSecret(id: $id) { clientSecret errors { code } } }`,
      { id: clientId },
    );
    expect((await signIn(created.clientSecret)).data.signInClient.errors[0]!.code).toBe(
      'CLIENT_CREDENTIALS_INVALID',
    );
    expect((await signIn(rotated.clientSecret)).data.signInClient.errors).toEqual([]);

    await mutate(
      provinceAdmin,
      'setClientEnabled',
      `mutation ($input: SetClientEnabledInput!) { setClientEnabled(input: $input) { client { enabled } errors { code } } }`,
      { input: { id: clientId, enabled: false } },
    );
    expect((await signIn(rotated.clientSecret)).data.signInClient.errors[0]!.code).toBe(
      'CLIENT_CREDENTIALS_INVALID',
    );

    const actions: { action: string }[] = await h.running.deps.ds.query(
      `SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id`,
      [clientId],
    );
    expect(actions.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        'CLIENT_CREATED',
        'CLIENT_SIGNED_IN',
        'CLIENT_SECRET_ROTATED',
        'CLIENT_DISABLED',
      ]),
    );
  });

  test('administration permissions are never for clients, and nobody grants beyond their own', async () => {
    const admin = await mutate(provinceAdmin, 'createClient', CREATE, {
      input: { name: 'x', regionCode: '420000', permissions: ['admin:users:write'] },
    });
    expect(admin.errors).toEqual([expect.objectContaining({ code: 'CLIENT_PERMISSION_NOT_ALLOWED' })]);
    const limited = staff('420100', ['admin:clients:write', 'vouchers:read']);
    const beyond = await mutate(limited, 'createClient', CREATE, {
      input: { name: 'x', regionCode: '420100', permissions: ['vouchers:issue'] },
    });
    expect(beyond.errors).toEqual([expect.objectContaining({ code: 'PERMISSION_NOT_HELD' })]);
    const elsewhere = await mutate(limited, 'createClient', CREATE, {
      input: { name: 'x', regionCode: '410400', permissions: ['vouchers:read'] },
    });
    expect(elsewhere.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: 'regionCode' })]);
  });
});

test('the permission catalogue is served', async () => {
  const res = await h.gql<{ permissionCatalogue: { name: string; module: string; staffOnly: boolean }[] }>(
    null,
    `{ permissionCatalogue { name module staffOnly } }`,
  );
  expect(res.data.permissionCatalogue).toEqual(
    expect.arrayContaining([
      { name: 'vouchers:issue', module: '培训券管理', staffOnly: false },
      { name: 'person:reveal', module: '人员管理', staffOnly: true },
    ]),
  );
});
