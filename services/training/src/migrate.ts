// Migration entry point for the Helm hook Job (`service/src/migrate.ts` in the image); see migrateMain.
import { migrateMain } from '@vtv/runtime';
import { training } from './service';

void migrateMain(training).then((code) => process.exit(code));
