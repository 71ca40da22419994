/**
 * The benchmark's operations, registered in a manifest of their own (`.bench/operations.json`) that the
 * gateway loads next to the platform's: sent by id as persisted operations, their plans warmed at start.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export const OPS = {
  present: `mutation BenchPresentVoucher($voucherId: ID!, $proof: String!) {
  presentVoucher(voucherId: $voucherId, proof: $proof) { token expiresAt errors { code message } }
}`,
  redeem: `mutation BenchRedeemVoucher($input: RedeemVoucherInput!) {
  redeemVoucher(input: $input) { voucher { id state } errors { code message } }
}`,
  claim: `mutation BenchClaimVoucher($templateId: ID!, $proof: String!) {
  claimVoucher(templateId: $templateId, proof: $proof) { voucher { id } errors { code message } }
}`,
  wallet: `query BenchWallet {
  me { id voucherWallet { held { id state faceValueFen validUntil } used { id } noLongerValid { id } } }
}`,
  catalogue: `query BenchCatalogue($filter: CatalogueFilter) {
  catalogue(filter: $filter, first: 10) { edges { node { id name occupation trainingType } } pageInfo { hasNextPage } }
}`,
  statistics: `query BenchStatistics($regionCode: ID!, $year: Int!) {
  voucherStatistics(regionCode: $regionCode, year: $year) { regionCode year currentlyHeld counts { issued claimed used } }
}`,
  issueCard: `mutation BenchIssueCard($input: IssueCardInput!) {
  issueCard(input: $input) { person { id } errors { code message } }
}`,
} as const;

export type OpName = keyof typeof OPS;

export const opName = (op: OpName) => /(?:query|mutation) (\w+)/.exec(OPS[op])![1]!;
export const opId = (op: OpName) => sha256(OPS[op]);

export function writeManifest(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const operations = (Object.keys(OPS) as OpName[]).map((op) => ({
    id: opId(op),
    name: opName(op),
    type: OPS[op].startsWith('query') ? 'query' : 'mutation',
    body: OPS[op],
  }));
  writeFileSync(
    path,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }, null, 2),
  );
}
