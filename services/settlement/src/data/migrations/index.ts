import { KitTables1732200000000 } from '@vtv/kit';
import { SubsidyApplications1732200000100 } from './1732200000100-SubsidyApplications';
import { Disbursements1732200000200 } from './1732200000200-Disbursements';
import { Settlement1732200000300 } from './1732200000300-Settlement';

export const migrations = [
  KitTables1732200000000,
  SubsidyApplications1732200000100,
  Disbursements1732200000200,
  Settlement1732200000300,
];
