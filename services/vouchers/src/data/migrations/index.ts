import { KitTables1732200000000 } from '@vtv/kit';
import { Vouchers1732200000100 } from './1732200000100-Vouchers';
import { VoucherDomain1732200000200 } from './1732200000200-VoucherDomain';
import { Quotas20211732200000300 } from './1732200000300-Quotas2021';
import { ClaimFunction1732200000400 } from './1732200000400-ClaimFunction';

export const migrations = [
  KitTables1732200000000,
  Vouchers1732200000100,
  VoucherDomain1732200000200,
  Quotas20211732200000300,
  ClaimFunction1732200000400,
];
