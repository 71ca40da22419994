import { KitTables1732200000000 } from '@vtv/kit';
import { Regions1732200000100 } from './1732200000100-Regions';
import { People1732200000200 } from './1732200000200-People';

export const migrations = [KitTables1732200000000, Regions1732200000100, People1732200000200];
