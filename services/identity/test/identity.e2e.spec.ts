/**
 * Identity through the gateway, with the whole platform running (real PostgreSQL, Kafka, Redis): a
 * labourer opens an e-SSC, signs in with the PIN, is verified before using a voucher, and the proof is
 * accepted by another subgraph's own verifier (identity's JWKS, no call to identity per check).
 */
import { idNumberCheckChar, uuidv7 } from '@vtv/kit';
import { uniqueName } from '@vtv/testing';
import { randomInt } from 'node:crypto';
import request from 'supertest';
import type { Stack } from '../../../scripts/lib/stack';
import { startTestStack } from '../../../test/support/stack';

let stack: Stack;

beforeAll(async () => {
  const namespace = uniqueName('e2e_identity');
  stack = await startTestStack(namespace);
});

afterAll(async () => {
  await stack?.stop();
});

function gql(token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const req = request(stack.gateway.app).post('/graphql').set('content-type', 'application/json');
  if (token) req.set('authorization', `Bearer ${token}`);
  return req.send({ query, variables });
}

test('e-SSC → PIN sign-in → verification proof checked by another subgraph', async () => {
  const first17 = `42010619880${randomInt(1, 10)}15${String(randomInt(0, 1000)).padStart(3, '0')}`;
  const idNumber = first17 + idNumberCheckChar(first17);
  const issued = await gql(
    null,
    `mutation ($input: IssueCardInput!) { issueCard(input: $input) { person { id maskedName region { name } } errors { code } } }`,
    {
      input: {
        name: '欧阳娜娜',
        idNumber,
        phone: `199${String(randomInt(0, 1e8)).padStart(8, '0')}`,
        regionCode: '420106',
        pin: '482915',
      },
    },
  ).expect(200);
  expect(issued.body.data.issueCard).toMatchObject({
    errors: [],
    person: { maskedName: '欧阳**', region: { name: '武昌区' } },
  });
  const personId: string = issued.body.data.issueCard.person.id;

  const signedIn = await gql(
    null,
    `mutation ($input: SignInPersonInput!) { signInPerson(input: $input) { accessToken errors { code } } }`,
    { input: { idNumber, pin: '482915' } },
  ).expect(200);
  expect(signedIn.body.data.signInPerson.errors).toEqual([]);
  const token: string = signedIn.body.data.signInPerson.accessToken;

  const me = await gql(token, `{ me { id maskedIdNumber } }`).expect(200);
  expect(me.body.data.me).toEqual({
    id: personId,
    maskedIdNumber: `${idNumber.slice(0, 4)}**********${idNumber.slice(14)}`,
  });

  const voucherId = uuidv7();
  const verified = await gql(
    token,
    `mutation ($input: VerifyIdentityInput!) { verifyIdentity(input: $input) { proof method errors { code } } }`,
    { input: { purpose: 'USE_VOUCHER', subject: voucherId, pin: '482915' } },
  ).expect(200);
  expect(verified.body.data.verifyIdentity).toMatchObject({ method: 'PIN', errors: [] });

  // Vouchers' own verifier (built from IDENTITY_JWKS_URL by the runtime) accepts it for that voucher only.
  const vouchersVerifier = stack.services.vouchers!.deps.tokens!;
  await expect(
    vouchersVerifier.verifyProof(verified.body.data.verifyIdentity.proof, {
      personId,
      purpose: 'USE_VOUCHER',
      subject: voucherId,
    }),
  ).resolves.toMatchObject({ personId, method: 'PIN' });
  await expect(
    vouchersVerifier.verifyProof(verified.body.data.verifyIdentity.proof, {
      personId,
      purpose: 'USE_VOUCHER',
      subject: uuidv7(),
    }),
  ).rejects.toMatchObject({ code: 'IDENTITY_PROOF_INVALID' });

  // The person's own data only: another person sees nothing.
  const strangerCard = `42010219750${randomInt(1, 10)}20${String(randomInt(0, 1000)).padStart(3, '0')}`;
  const stranger = await gql(
    null,
    `mutation ($input: IssueCardInput!) { issueCard(input: $input) { person { id } errors { code } } }`,
    {
      input: {
        name: '张三',
        idNumber: strangerCard + idNumberCheckChar(strangerCard),
        phone: `199${String(randomInt(0, 1e8)).padStart(8, '0')}`,
        regionCode: '420106',
        pin: '731946',
      },
    },
  ).expect(200);
  const strangerToken = (
    await gql(null, `mutation ($input: SignInPersonInput!) { signInPerson(input: $input) { accessToken } }`, {
      input: { idNumber: strangerCard + idNumberCheckChar(strangerCard), pin: '731946' },
    })
  ).body.data.signInPerson.accessToken;
  expect(stranger.body.data.issueCard.errors).toEqual([]);
  const theirs = await gql(strangerToken, `query ($id: ID!) { person(id: $id) { id } }`, {
    id: personId,
  }).expect(200);
  expect(theirs.body.data.person).toBeNull();
});
