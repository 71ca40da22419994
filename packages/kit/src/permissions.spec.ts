import { ALL_PERMISSIONS, PERMISSION_CATALOGUE, Permission, isPermission } from './permissions';

test('the catalogue holds the permission strings the subgraphs check', () => {
  for (const name of [
    'person:read',
    'person:reveal',
    'vouchers:issue',
    'vouchers:read',
    'training:institution:write',
    'training:class:submit',
    'training:class:approve',
    'settlement:read',
    'careers:read',
    'careers:jobs:write',
  ]) {
    expect(isPermission(name)).toBe(true);
  }
  expect(isPermission('vouchers:*')).toBe(false);
});

test('names are unique, well-formed and all described', () => {
  expect(new Set(ALL_PERMISSIONS).size).toBe(PERMISSION_CATALOGUE.length);
  expect(Object.values(Permission).sort()).toEqual([...ALL_PERMISSIONS].sort());
  for (const p of PERMISSION_CATALOGUE) {
    expect(p.name).toMatch(/^[a-z]+(:[a-z]+)+$/);
    expect(p.description.length).toBeGreaterThan(0);
  }
});
