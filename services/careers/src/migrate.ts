// Migration entry point for the Helm hook Job (`service/src/migrate.ts` in the image); see migrateMain.
import { migrateMain } from '@vtv/runtime';
import { careers } from './service';

void migrateMain(careers).then((code) => process.exit(code));
