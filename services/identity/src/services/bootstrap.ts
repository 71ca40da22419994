import { enqueue } from '@vtv/events';
import { ANONYMOUS, requireIdNumber, uuidv7, type Logger } from '@vtv/kit';
import { isUniqueViolation, type Store } from '../data/repositories';
import type { Vault } from '../security/vault';
import { audit, AuditAction } from './audit';
import { staffUserCreated } from './events';
import { requireName } from './people';

/** The built-in 系统管理员 role (migration Administration1732200000500). */
export const SYSTEM_ADMIN_ROLE_ID = '00000000-0000-7000-8000-000000000001';

export interface BootstrapAdmin {
  idNumber: string;
  name: string;
  regionCode: string;
}

/**
 * Creates the first provincial system administrator from config (BOOTSTRAP_ADMIN_*) when no staff user
 * with that ID number exists yet: a staff user of the province holding the built-in system role. That
 * person then signs in to the console like everyone else (their e-SSC confirms the QR) and creates the
 * rest. Idempotent and safe with several replicas starting at once; never changes an existing user.
 */
export async function bootstrapAdmin(store: Store, vault: Vault, admin: BootstrapAdmin, logger: Logger) {
  const idNumber = requireIdNumber(admin.idNumber, 'BOOTSTRAP_ADMIN_ID_NUMBER');
  const name = requireName(admin.name, 'BOOTSTRAP_ADMIN_NAME');
  const index = vault.blindIndex(idNumber.value);
  if (await store.read.staff.byBlindIndex(index)) return false;
  if (!(await store.read.regions.byCode(admin.regionCode))) {
    throw new Error(`BOOTSTRAP_ADMIN_REGION_CODE ${admin.regionCode} is not a known region`);
  }
  const id = uuidv7();
  try {
    await store.transaction(async (r) => {
      await r.staff.insert({
        id,
        regionCode: admin.regionCode,
        departmentId: null,
        ...vault.sealStaff(id, { idNumber: idNumber.value, name, phone: null }),
        idBlindIndex: index,
        createdBy: null,
      });
      await r.roles.setForUser(id, [SYSTEM_ADMIN_ROLE_ID], null);
      await audit(
        r,
        { caller: ANONYMOUS, system: 'bootstrap' },
        AuditAction.STAFF_BOOTSTRAPPED,
        { type: 'STAFF_USER', id, regionCode: admin.regionCode },
        { roleIds: [SYSTEM_ADMIN_ROLE_ID] },
      );
      await enqueue(r.manager, [
        staffUserCreated({
          staffUserId: id,
          regionCode: admin.regionCode,
          departmentId: null,
          roleIds: [SYSTEM_ADMIN_ROLE_ID],
          actorId: null,
          at: new Date(),
        }),
      ]);
    });
  } catch (err) {
    if (isUniqueViolation(err)) return false; // Another replica got there first.
    throw err;
  }
  logger.info({ staffUserId: id, regionCode: admin.regionCode }, 'bootstrap system administrator created');
  return true;
}
