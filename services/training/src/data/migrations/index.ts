import { KitTables1732200000000 } from '@vtv/kit';
import { Institutions1732200000100 } from './1732200000100-Institutions';
import { Operations1732200000200 } from './1732200000200-Operations';

export const migrations = [KitTables1732200000000, Institutions1732200000100, Operations1732200000200];
