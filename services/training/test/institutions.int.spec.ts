/**
 * Institutions (培训机构) and their operators (经办人) against real PostgreSQL: credit-code and coordinate
 * validation, activation for issuance (关联部端), the main-operator rules (one main operator, managed by
 * the main operator, handed over atomically), operators acting only for their institution, and change
 * requests approved by the bureau (Art. 10). Events are read from the outbox the relay publishes from.
 */
import { InstitutionActivationChangedSchema, OperatorMembershipChangedSchema } from '@vtv/events';
import { uuidv7 } from '@vtv/kit';
import { creditCodeCheckChar } from '../src/services/credit-code';
import {
  REGISTER,
  SITE,
  creditCode,
  decode,
  person,
  pingdingshanBureau,
  registerInstitution,
  staff,
  startTraining,
  wuhanBureau,
  type Harness,
} from './helpers';

let h: Harness;
const anonymous = { kind: 'anonymous' as const, permissions: [] };

beforeAll(async () => {
  h = await startTraining();
});

afterAll(async () => {
  await h?.stop();
});

type Errors = { code: string; field: string | null; message: string }[];

const ADD = `mutation ($input: AddOperatorInput!) {
  addOperator(input: $input) { operator { id main enabled position person { id } } errors { code field message } }
}`;
const UPDATE = `mutation ($input: UpdateOperatorInput!) {
  updateOperator(input: $input) { operator { id main enabled position } errors { code field message } }
}`;
const TRANSFER = `mutation ($input: TransferMainOperatorInput!) {
  transferMainOperator(input: $input) { from { id main } to { id main } errors { code field message } }
}`;
const OPERATORS = `query ($id: ID!) {
  institution(id: $id) { id operators(first: 50) { edges { node { id main enabled person { id } } } } }
}`;
const ACTIVATE = `mutation ($id: ID!, $active: Boolean!) {
  setInstitutionActive(id: $id, active: $active) { institution { id active } errors { code field message } }
}`;

function input(overrides: Record<string, unknown> = {}) {
  return {
    name: '武汉市江岸区职业培训学校',
    creditCode: creditCode(),
    regionCode: '420102',
    address: '江岸区解放大道1000号',
    ...SITE,
    ...overrides,
  };
}

async function registerErrors(overrides: Record<string, unknown>, caller = wuhanBureau()): Promise<Errors> {
  const res = await h.mutate<{ institution: unknown; errors: Errors }>(caller, REGISTER, {
    input: input(overrides),
  });
  expect(res.institution).toBeNull();
  return res.errors;
}

async function countInstitutions(): Promise<number> {
  const [row] = await h.running.deps.ds.query('SELECT count(*)::int AS n FROM institutions');
  return row.n;
}

describe('registration: unified social credit code (GB 32100-2015) and coordinates', () => {
  it('registers with a valid code, normalising lower case', async () => {
    const code = creditCode();
    const res = await h.mutate<{ institution: { creditCode: string; active: boolean }; errors: Errors }>(
      wuhanBureau(),
      REGISTER,
      {
        input: input({ creditCode: `  ${code.toLowerCase()} ` }),
      },
    );
    expect(res.errors).toEqual([]);
    expect(res.institution).toMatchObject({ creditCode: code, active: false });
  });

  it('refuses a wrong check character, wrong lengths and letters outside the alphabet, writing nothing', async () => {
    const before = await countInstitutions();
    const good = creditCode();
    const wrongCheck = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    const withI = `91420100I${good.slice(9, 17)}`;
    for (const bad of [
      wrongCheck,
      good.slice(0, 17),
      `${good}0`,
      withI + creditCodeCheckChar(`91420100A${good.slice(9, 17)}`),
      '',
      'x'.repeat(5000),
      "91'; DROP TABLE institutions;--",
    ]) {
      expect(await registerErrors({ creditCode: bad })).toEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'creditCode' }),
      ]);
    }
    expect(await countInstitutions()).toBe(before);
  });

  it('refuses a credit code registered twice with CONFLICT', async () => {
    const code = creditCode();
    expect(
      (await h.mutate<{ errors: Errors }>(wuhanBureau(), REGISTER, { input: input({ creditCode: code }) }))
        .errors,
    ).toEqual([]);
    expect(await registerErrors({ creditCode: code })).toEqual([
      expect.objectContaining({ code: 'CONFLICT', field: 'creditCode' }),
    ]);
  });

  it('refuses coordinates out of range', async () => {
    expect(await registerErrors({ latitude: 90.5 })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'latitude' }),
    ]);
    expect(await registerErrors({ latitude: -91 })).toEqual([expect.objectContaining({ field: 'latitude' })]);
    expect(await registerErrors({ longitude: 180.01 })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'longitude' }),
    ]);
    expect(await registerErrors({ longitude: -200 })).toEqual([
      expect.objectContaining({ field: 'longitude' }),
    ]);
  });

  it('refuses a region outside the bureau, a missing permission, and people', async () => {
    expect(await registerErrors({}, pingdingshanBureau())).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN', field: 'regionCode' }),
    ]);
    expect(await registerErrors({}, staff('420100', ['training:read']))).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect(await registerErrors({}, person())).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(await registerErrors({ regionCode: '4201' })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'regionCode' }),
    ]);
    const anonymous = await h.mutate<{ errors: Errors }>({ kind: 'anonymous', permissions: [] }, REGISTER, {
      input: input(),
    });
    expect(anonymous.errors).toEqual([expect.objectContaining({ code: 'UNAUTHENTICATED' })]);
  });

  it('records the main operator named at registration and publishes the membership', async () => {
    const inst = await registerInstitution(h);
    const rows = await h.outbox('OperatorMembershipChanged', inst.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.topic).toBe('training.institution.v1');
    expect(decode(OperatorMembershipChangedSchema, rows[0]!)).toMatchObject({
      institutionId: inst.id,
      operatorPersonId: inst.main.id,
      enabled: true,
      main: true,
    });
  });
});

describe('activation for issuance (关联部端)', () => {
  it('needs a main operator, then links and unlinks with events; only the region’s bureau may', async () => {
    const bureau = wuhanBureau();
    const bare = await h.mutate<{ institution: { id: string } }>(bureau, REGISTER, { input: input() });
    const id = bare.institution.id;
    expect((await h.mutate<{ errors: Errors }>(bureau, ACTIVATE, { id, active: true })).errors).toEqual([
      expect.objectContaining({ code: 'MAIN_OPERATOR_REQUIRED' }),
    ]);
    const main = person();
    expect(
      (
        await h.mutate<{ errors: Errors }>(bureau, ADD, {
          input: { institutionId: id, personId: main.id, main: true },
        })
      ).errors,
    ).toEqual([]);

    expect(
      (await h.mutate<{ errors: Errors }>(pingdingshanBureau(), ACTIVATE, { id, active: true })).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect((await h.mutate<{ errors: Errors }>(main, ACTIVATE, { id, active: true })).errors).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    expect(await h.mutate(bureau, ACTIVATE, { id, active: true })).toEqual({
      institution: { id, active: true },
      errors: [],
    });
    expect((await h.mutate<{ errors: Errors }>(bureau, ACTIVATE, { id, active: true })).errors).toEqual([
      expect.objectContaining({ code: 'INVALID_STATE' }),
    ]);
    expect(await h.mutate(bureau, ACTIVATE, { id, active: false })).toEqual({
      institution: { id, active: false },
      errors: [],
    });

    const events = (await h.outbox('InstitutionActivationChanged', id)).map((r) =>
      decode(InstitutionActivationChangedSchema, r),
    );
    expect(events.map((e) => e.active)).toEqual([true, false]);
    expect(events[0]).toMatchObject({ institutionId: id, regionCode: '420102', changedBy: bureau.id });
    const audit = await h.running.deps.ds.query(
      `SELECT action FROM audit_log WHERE subject_id = $1 ORDER BY id`,
      [id],
    );
    expect(audit.map((a: { action: string }) => a.action)).toEqual([
      'institution.register',
      'institution.activate',
      'institution.deactivate',
    ]);
  });
});

describe('operators (经办人管理)', () => {
  it('the main operator adds, edits, disables and enables others; others cannot manage', async () => {
    const inst = await registerInstitution(h);
    const clerk = person();
    const added = await h.mutate<{
      operator: { id: string; main: boolean; enabled: boolean; position: string };
      errors: Errors;
    }>(inst.main, ADD, {
      input: { institutionId: inst.id, personId: clerk.id, position: '教务' },
    });
    expect(added.errors).toEqual([]);
    expect(added.operator).toMatchObject({ main: false, enabled: true, position: '教务' });
    const clerkOp = added.operator.id;

    // A regular operator cannot manage operators.
    expect(
      (
        await h.mutate<{ errors: Errors }>(clerk, ADD, {
          input: { institutionId: inst.id, personId: uuidv7() },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(clerk, UPDATE, {
          input: { operatorId: clerkOp, position: '校长' },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);

    expect(
      await h.mutate(inst.main, UPDATE, { input: { operatorId: clerkOp, position: '招生', enabled: false } }),
    ).toMatchObject({
      operator: { enabled: false, position: '招生' },
      errors: [],
    });
    // A disabled operator no longer acts for the institution.
    expect(
      (
        await h.mutate<{ errors: Errors }>(
          clerk,
          `mutation ($id: ID!) { checkEnrollmentIdentity(enrollmentId: $id, matched: true) { errors { code } } }`,
          { id: uuidv7() },
        )
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect(
      await h.mutate(inst.main, UPDATE, { input: { operatorId: clerkOp, enabled: true } }),
    ).toMatchObject({ operator: { enabled: true }, errors: [] });

    const events = (await h.outbox('OperatorMembershipChanged', inst.id)).map((r) =>
      decode(OperatorMembershipChangedSchema, r),
    );
    expect(events.filter((e) => e.operatorPersonId === clerk.id).map((e) => e.enabled)).toEqual([
      true,
      false,
      true,
    ]);

    // Adding the same person twice is a conflict.
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, ADD, {
          input: { institutionId: inst.id, personId: clerk.id },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CONFLICT', field: 'personId' })]);
  });

  it('keeps exactly one main operator: no second main, the main cannot be disabled, and the index refuses one', async () => {
    const inst = await registerInstitution(h);
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.bureau, ADD, {
          input: { institutionId: inst.id, personId: uuidv7(), main: true },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CONFLICT', field: 'main' })]);
    const ops = (await h.gql(inst.main, OPERATORS, { id: inst.id })).body.data.institution.operators.edges;
    const mainOp = ops.find((e: { node: { main: boolean } }) => e.node.main).node.id;
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, UPDATE, {
          input: { operatorId: mainOp, enabled: false },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'INVALID_STATE', field: 'enabled' })]);
    // The database is the final word: a second main row violates the partial unique index.
    await expect(
      h.running.deps.ds.query(
        `INSERT INTO operators (id, institution_id, person_id, main, enabled, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, true, true, 'test', now(), now())`,
        [uuidv7(), inst.id, uuidv7()],
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'operators_one_main' });
    await expect(
      h.running.deps.ds.query(`UPDATE operators SET enabled = false WHERE id = $1`, [mainOp]),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('hands the main role over atomically; the former main can no longer manage', async () => {
    const inst = await registerInstitution(h);
    const deputy = person();
    const { operator } = await h.mutate<{ operator: { id: string } }>(inst.main, ADD, {
      input: { institutionId: inst.id, personId: deputy.id },
    });
    // Only the main operator hands over; not the deputy, not the bureau.
    expect(
      (
        await h.mutate<{ errors: Errors }>(deputy, TRANSFER, {
          input: { institutionId: inst.id, toOperatorId: operator.id },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.bureau, TRANSFER, {
          input: { institutionId: inst.id, toOperatorId: operator.id },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    const done = await h.mutate<{
      from: { main: boolean };
      to: { id: string; main: boolean };
      errors: Errors;
    }>(inst.main, TRANSFER, {
      input: { institutionId: inst.id, toOperatorId: operator.id },
    });
    expect(done).toMatchObject({ from: { main: false }, to: { id: operator.id, main: true }, errors: [] });
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM operators WHERE institution_id = $1 AND main`,
      [inst.id],
    );
    expect(n).toBe(1);
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, ADD, {
          input: { institutionId: inst.id, personId: uuidv7() },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    expect(
      (
        await h.mutate<{ errors: Errors }>(deputy, ADD, {
          input: { institutionId: inst.id, personId: uuidv7() },
        })
      ).errors,
    ).toEqual([]);
    const events = (await h.outbox('OperatorMembershipChanged', inst.id)).map((r) =>
      decode(OperatorMembershipChangedSchema, r),
    );
    // The hand-over's two events, in order (the deputy's addition follows them).
    expect(events.slice(-3, -1).map((e) => [e.operatorPersonId, e.main])).toEqual([
      [inst.main.id, false],
      [deputy.id, true],
    ]);
  });

  it('concurrent hand-overs leave exactly one main operator', async () => {
    const inst = await registerInstitution(h);
    const a = await h.mutate<{ operator: { id: string } }>(inst.main, ADD, {
      input: { institutionId: inst.id, personId: uuidv7() },
    });
    const b = await h.mutate<{ operator: { id: string } }>(inst.main, ADD, {
      input: { institutionId: inst.id, personId: uuidv7() },
    });
    const results = await Promise.all(
      [a, b].map((x) =>
        h.mutate<{ errors: Errors }>(inst.main, TRANSFER, {
          input: { institutionId: inst.id, toOperatorId: x.operator.id },
        }),
      ),
    );
    expect(results.filter((r) => r.errors.length === 0)).toHaveLength(1);
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM operators WHERE institution_id = $1 AND main`,
      [inst.id],
    );
    expect(n).toBe(1);
  });

  it('operators act only for their institution; a person acts for one institution at a time', async () => {
    const a = await registerInstitution(h);
    const b = await registerInstitution(h);
    expect(
      (
        await h.mutate<{ errors: Errors }>(a.main, ADD, {
          input: { institutionId: b.id, personId: uuidv7() },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    // B's main operator cannot also become an operator of A.
    expect(
      (
        await h.mutate<{ errors: Errors }>(a.main, ADD, {
          input: { institutionId: a.id, personId: b.main.id },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CONFLICT', field: 'personId' })]);
    // A's internals are hidden from B's operator and from other regions; visible to A's bureau.
    expect((await h.gql(b.main, OPERATORS, { id: a.id })).body.data.institution.operators).toBeNull();
    expect(
      (await h.gql(pingdingshanBureau(), OPERATORS, { id: a.id })).body.data.institution.operators,
    ).toBeNull();
    expect(
      (await h.gql(staff('420000', ['training:read']), OPERATORS, { id: a.id })).body.data.institution
        .operators.edges,
    ).toHaveLength(1);
    expect((await h.gql(anonymous, OPERATORS, { id: a.id })).body.data.institution.operators).toBeNull();
  });
});

describe('change requests (Art. 10)', () => {
  const REQUEST = `mutation ($input: RequestInstitutionChangeInput!) {
    requestInstitutionChange(input: $input) { changeRequest { id state } errors { code field message } }
  }`;
  const APPROVE = `mutation ($id: ID!) { approveInstitutionChange(id: $id) { changeRequest { id state reviewedBy } errors { code field message } } }`;
  const REJECT = `mutation ($id: ID!, $reason: String!) { rejectInstitutionChange(id: $id, reason: $reason) { changeRequest { id state rejectionReason } errors { code field message } } }`;
  const INSTITUTION = `query ($id: ID!) {
    institution(id: $id) { name address latitude longitude operators(first: 50) { edges { node { main enabled person { id } } } } }
  }`;

  it('applies name, location and a new main operator only when the bureau approves', async () => {
    const inst = await registerInstitution(h);
    const clerk = person();
    await h.mutate(inst.main, ADD, { input: { institutionId: inst.id, personId: clerk.id } });
    const successor = person();
    const filed = await h.mutate<{ changeRequest: { id: string; state: string }; errors: Errors }>(
      clerk,
      REQUEST,
      {
        input: {
          institutionId: inst.id,
          name: '武汉市江岸区职业技能培训学校',
          address: '江岸区沿江大道88号',
          latitude: 30.59,
          longitude: 114.31,
          mainOperatorPersonId: successor.id,
          disableOperatorPersonIds: [clerk.id],
          reason: '机构更名并搬迁，主经办人离职',
        },
      },
    );
    expect(filed.errors).toEqual([]);
    // Nothing changed yet; a second pending request is refused.
    expect((await h.gql(inst.main, INSTITUTION, { id: inst.id })).body.data.institution.name).toBe(
      '武汉市江岸区职业培训学校',
    );
    expect(
      (
        await h.mutate<{ errors: Errors }>(inst.main, REQUEST, {
          input: { institutionId: inst.id, name: 'x', reason: 'y' },
        })
      ).errors,
    ).toEqual([expect.objectContaining({ code: 'CHANGE_REQUEST_PENDING' })]);
    // Only the region's bureau approves.
    expect(
      (await h.mutate<{ errors: Errors }>(pingdingshanBureau(), APPROVE, { id: filed.changeRequest.id }))
        .errors,
    ).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })]);
    expect(
      (await h.mutate<{ errors: Errors }>(inst.main, APPROVE, { id: filed.changeRequest.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
    const approved = await h.mutate<{ changeRequest: { state: string; reviewedBy: string }; errors: Errors }>(
      inst.bureau,
      APPROVE,
      {
        id: filed.changeRequest.id,
      },
    );
    expect(approved).toMatchObject({
      changeRequest: { state: 'APPROVED', reviewedBy: inst.bureau.id },
      errors: [],
    });

    const after = (await h.gql(successor, INSTITUTION, { id: inst.id })).body.data.institution;
    expect(after).toMatchObject({
      name: '武汉市江岸区职业技能培训学校',
      address: '江岸区沿江大道88号',
      latitude: 30.59,
      longitude: 114.31,
    });
    const byPerson = Object.fromEntries(
      after.operators.edges.map(
        (e: { node: { person: { id: string }; main: boolean; enabled: boolean } }) => [
          e.node.person.id,
          e.node,
        ],
      ),
    );
    expect(byPerson[successor.id]).toMatchObject({ main: true, enabled: true });
    expect(byPerson[inst.main.id]).toMatchObject({ main: false, enabled: true });
    expect(byPerson[clerk.id]).toMatchObject({ main: false, enabled: false });
    const events = (await h.outbox('OperatorMembershipChanged', inst.id)).map((r) =>
      decode(OperatorMembershipChangedSchema, r),
    );
    expect(events.slice(-3).map((e) => [e.operatorPersonId, e.enabled, e.main, e.changedBy])).toEqual([
      [inst.main.id, true, false, inst.bureau.id],
      [clerk.id, false, false, inst.bureau.id],
      [successor.id, true, true, inst.bureau.id],
    ]);
    expect(
      (await h.mutate<{ errors: Errors }>(inst.bureau, APPROVE, { id: filed.changeRequest.id })).errors,
    ).toEqual([expect.objectContaining({ code: 'INVALID_STATE' })]);
  });

  it('rejects with a reason and changes nothing; refuses bad requests and outsiders', async () => {
    const inst = await registerInstitution(h);
    const filed = await h.mutate<{ changeRequest: { id: string } }>(inst.main, REQUEST, {
      input: { institutionId: inst.id, latitude: 31, longitude: 115, reason: '搬迁' },
    });
    expect(
      (await h.mutate<{ errors: Errors }>(inst.bureau, REJECT, { id: filed.changeRequest.id, reason: '  ' }))
        .errors,
    ).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'reason' })]);
    expect(
      await h.mutate(inst.bureau, REJECT, { id: filed.changeRequest.id, reason: '缺少租赁合同' }),
    ).toMatchObject({
      changeRequest: { state: 'REJECTED', rejectionReason: '缺少租赁合同' },
      errors: [],
    });
    expect((await h.gql(anonymous, INSTITUTION, { id: inst.id })).body.data.institution).toMatchObject(SITE);

    const bad = async (input: Record<string, unknown>, caller = inst.main) =>
      (
        await h.mutate<{ errors: Errors }>(caller, REQUEST, {
          input: { institutionId: inst.id, reason: '变更', ...input },
        })
      ).errors;
    expect(await bad({ latitude: 95, longitude: 114 })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'latitude' }),
    ]);
    expect(await bad({ latitude: 30 })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'longitude' }),
    ]);
    expect(await bad({})).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT' })]);
    expect(await bad({ disableOperatorPersonIds: [inst.main.id] })).toEqual([
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'disableOperatorPersonIds' }),
    ]);
    expect(await bad({ name: '别人的机构' }, person())).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN' }),
    ]);
    const [{ n }] = await h.running.deps.ds.query(
      `SELECT count(*)::int AS n FROM institution_change_requests WHERE institution_id = $1`,
      [inst.id],
    );
    expect(n).toBe(1);
  });
});
