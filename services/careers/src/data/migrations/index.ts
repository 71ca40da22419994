import { KitTables1732200000000 } from '@vtv/kit';
import { Certificates1732200000100 } from './1732200000100-Certificates';
import { JobPostings1732200000200 } from './1732200000200-JobPostings';
import { CertificateImports1732200000300 } from './1732200000300-CertificateImports';
import { Archive1732200000400 } from './1732200000400-Archive';
import { Consent1732200000500 } from './1732200000500-Consent';
import { Recommendations1732200000600 } from './1732200000600-Recommendations';

export const migrations = [
  KitTables1732200000000,
  Certificates1732200000100,
  JobPostings1732200000200,
  CertificateImports1732200000300,
  Archive1732200000400,
  Consent1732200000500,
  Recommendations1732200000600,
];
