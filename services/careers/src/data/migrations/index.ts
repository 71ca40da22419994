import { KitTables1732200000000 } from '@vtv/kit';
import { Certificates1732200000100 } from './1732200000100-Certificates';
import { JobPostings1732200000200 } from './1732200000200-JobPostings';

export const migrations = [KitTables1732200000000, Certificates1732200000100, JobPostings1732200000200];
