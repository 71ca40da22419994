import { DomainError, ErrorCode, Permission, type Caller } from '@vtv/kit';
import type { Store } from '../data/repositories';
import type { Vault } from '../security/vault';
import { audit, AuditAction, type Actor } from './audit';
import { staffScopeFor } from './scope';

export interface ReencryptionResult {
  reencrypted: number;
  remaining: number;
  keyId: string;
}

/**
 * Key rotation's second half: moves personal data encrypted under older keys to the newest one, in
 * batches (rows locked with SKIP LOCKED, so several runs can share the work). When `remaining` reaches
 * zero the old keys can be removed from PII_ENCRYPTION_KEYS.
 */
export class ReencryptionService {
  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
  ) {}

  /** One batch over people and staff users; the platform's own maintenance path (no permission check). */
  async runBatch(batchSize: number): Promise<{ reencrypted: number; remaining: number }> {
    const keyId = this.vault.currentKeyId;
    const reencrypted = await this.store.transaction(async (r) => {
      let n = 0;
      for (const person of await r.people.lockNotUnderKey(keyId, batchSize)) {
        await r.people.replacePersonalData(
          person.id,
          this.vault.sealPerson(person.id, this.vault.openPerson(person)),
        );
        n += 1;
      }
      for (const user of await r.staff.lockNotUnderKey(keyId, Math.max(0, batchSize - n))) {
        const sealed = this.vault.sealStaff(user.id, this.vault.openStaff(user));
        await r.staff.update(user.id, { departmentId: user.departmentId, ...sealed });
        n += 1;
      }
      return n;
    });
    const remaining =
      (await this.store.read.people.countNotUnderKey(keyId)) +
      (await this.store.read.staff.countNotUnderKey(keyId));
    return { reencrypted, remaining };
  }

  /** The mutation: staff holding admin:keys:rotate; audited. */
  async run(caller: Caller, batchSize: number | null | undefined, actor: Actor): Promise<ReencryptionResult> {
    staffScopeFor(caller, Permission.ADMIN_KEYS_ROTATE);
    const size = batchSize ?? 500;
    if (!Number.isInteger(size) || size < 1 || size > 5000) {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'batchSize must be between 1 and 5000', 'batchSize');
    }
    const result = await this.runBatch(size);
    await this.store.transaction((r) =>
      audit(
        r,
        actor,
        AuditAction.PERSONAL_DATA_REENCRYPTED,
        { type: 'SYSTEM', id: null, regionCode: null },
        {
          keyId: this.vault.currentKeyId,
          ...result,
        },
      ),
    );
    return { ...result, keyId: this.vault.currentKeyId };
  }
}
