import { KitTables1732200000000 } from '@vtv/kit';
import { Vouchers1732200000100 } from './1732200000100-Vouchers';

export const migrations = [KitTables1732200000000, Vouchers1732200000100];
