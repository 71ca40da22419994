import { KitTables1732200000000 } from '@vtv/kit';
import { Regions1732200000100 } from './1732200000100-Regions';
import { People1732200000200 } from './1732200000200-People';
import { Provinces1732200000300 } from './1732200000300-Provinces';
import { PersonalData1732200000400 } from './1732200000400-PersonalData';
import { Administration1732200000500 } from './1732200000500-Administration';

export const migrations = [
  KitTables1732200000000,
  Regions1732200000100,
  People1732200000200,
  Provinces1732200000300,
  PersonalData1732200000400,
  Administration1732200000500,
];
