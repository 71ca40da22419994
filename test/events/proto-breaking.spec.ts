/**
 * `scripts/proto.sh breaking` (the test command's buf breaking step) in a throwaway git repository
 * holding a copy of the real contracts: it must fail a renumbered or retyped field, whether the break
 * is uncommitted, committed on main or on a branch, and pass an additive change.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(60_000);

const ROOT = join(__dirname, '..', '..');
const PERSON = 'proto/vtv/identity/v1/person.proto';
const env = {
  ...process.env,
  PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  PROTO_BREAKING_AGAINST: '',
};

let dir: string;

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
}

function breaking(): { status: number | null; output: string } {
  const r = spawnSync('bash', ['scripts/proto.sh', 'breaking'], { cwd: dir, env, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

function edit(path: string, from: string, to: string): void {
  const file = join(dir, path);
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${path} does not contain ${from}`);
  writeFileSync(file, text.replace(from, to));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proto-breaking-'));
  cpSync(join(ROOT, 'proto'), join(dir, 'proto'), { recursive: true });
  cpSync(join(ROOT, 'buf.yaml'), join(dir, 'buf.yaml'));
  cpSync(join(ROOT, 'scripts', 'proto.sh'), join(dir, 'scripts', 'proto.sh'));
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'contracts');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('buf breaking against the main branch', () => {
  it('passes the unchanged contracts', () => {
    const r = breaking();
    expect(r.output).toContain('no breaking change');
    expect(r.status).toBe(0);
  });

  it('fails a renumbered field (uncommitted change on main)', () => {
    edit(PERSON, 'string region_code = 2;', 'string region_code = 5;');
    const r = breaking();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/CardIssued/);
    expect(r.output).toMatch(/new version/);
  });

  it('fails a retyped field', () => {
    edit(PERSON, 'int32 birth_year = 3;', 'string birth_year = 3;');
    const r = breaking();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/birth_year/);
  });

  it('fails a break already committed on main (checked against the earlier commits)', () => {
    edit(PERSON, 'string region_code = 2;', 'int64 region_code = 2;');
    git('commit', '-q', '-am', 'retype region_code');
    const r = breaking();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/region_code/);
  });

  it('fails a break on a branch, compared with main', () => {
    git('checkout', '-q', '-b', 'feature');
    edit(PERSON, 'string person_id = 1;', 'string person_id = 9;');
    git('commit', '-q', '-am', 'renumber person_id');
    const r = breaking();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/person_id|"1"/);
  });

  it('passes an additive change: a new field and a new message', () => {
    edit(
      PERSON,
      'google.protobuf.Timestamp issued_at = 4;\n}',
      'google.protobuf.Timestamp issued_at = 4;\n  string card_kind = 5;\n}\n\n// A card was revoked.\nmessage CardRevoked {\n  string person_id = 1;\n}',
    );
    const r = breaking();
    expect(r.output).toContain('no breaking change');
    expect(r.status).toBe(0);
    git('commit', '-q', '-am', 'add card_kind and CardRevoked');
    expect(breaking().status).toBe(0);
  });

  it('skips with a notice when there is no history to compare with', () => {
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    git('init', '-q', '-b', 'main');
    const r = breaking();
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/skipped/);
  });
});
