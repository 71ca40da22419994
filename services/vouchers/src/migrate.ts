// Migration entry point for the Helm hook Job (`service/src/migrate.ts` in the image); see migrateMain.
import { migrateMain } from '@vtv/runtime';
import { vouchers } from './service';

void migrateMain(vouchers).then((code) => process.exit(code));
