import type { PersonRow, StaffUserRow } from '../data/entities';
import type { BlindIndex, PiiCipher } from './pii-crypto';

export interface PersonalData {
  idNumber: string;
  name: string;
  phone: string;
}

export interface SealedPerson {
  idNumberEnc: Buffer;
  nameEnc: Buffer;
  phoneEnc: Buffer;
  piiKeyId: string;
}

export interface SealedStaff {
  idNumberEnc: Buffer;
  nameEnc: Buffer;
  phoneEnc: Buffer | null;
  piiKeyId: string;
}

/**
 * Personal data in and out of rows: each value encrypted under the newest key with its table, column and
 * row as additional data; the ID number also as a blind index for lookups.
 */
export class Vault {
  constructor(
    private readonly cipher: PiiCipher,
    private readonly index: BlindIndex,
  ) {}

  get currentKeyId(): string {
    return this.cipher.currentKeyId;
  }

  blindIndex(normalisedIdNumber: string): Buffer {
    return this.index.idNumber(normalisedIdNumber);
  }

  sealPerson(id: string, d: PersonalData): SealedPerson {
    return {
      idNumberEnc: this.cipher.encrypt(d.idNumber, `people.id_number:${id}`),
      nameEnc: this.cipher.encrypt(d.name, `people.name:${id}`),
      phoneEnc: this.cipher.encrypt(d.phone, `people.phone:${id}`),
      piiKeyId: this.cipher.currentKeyId,
    };
  }

  openPerson(row: PersonRow): PersonalData {
    return {
      idNumber: this.cipher.decrypt(row.idNumberEnc, `people.id_number:${row.id}`),
      name: this.cipher.decrypt(row.nameEnc, `people.name:${row.id}`),
      phone: this.cipher.decrypt(row.phoneEnc, `people.phone:${row.id}`),
    };
  }

  sealStaff(id: string, d: { idNumber: string; name: string; phone: string | null }): SealedStaff {
    return {
      idNumberEnc: this.cipher.encrypt(d.idNumber, `staff_users.id_number:${id}`),
      nameEnc: this.cipher.encrypt(d.name, `staff_users.name:${id}`),
      phoneEnc: d.phone === null ? null : this.cipher.encrypt(d.phone, `staff_users.phone:${id}`),
      piiKeyId: this.cipher.currentKeyId,
    };
  }

  openStaff(row: StaffUserRow): { idNumber: string; name: string; phone: string | null } {
    return {
      idNumber: this.cipher.decrypt(row.idNumberEnc, `staff_users.id_number:${row.id}`),
      name: this.cipher.decrypt(row.nameEnc, `staff_users.name:${row.id}`),
      phone: row.phoneEnc ? this.cipher.decrypt(row.phoneEnc, `staff_users.phone:${row.id}`) : null,
    };
  }
}
