import { isPermission } from '@vtv/kit';
import { SETTLEMENT_PERMISSIONS } from './permissions';

test('every settlement permission is in the platform catalogue, so roles can grant it', () => {
  for (const p of SETTLEMENT_PERMISSIONS) expect(isPermission(p)).toBe(true);
});
