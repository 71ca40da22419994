// Migration entry point for the Helm hook Job (`service/src/migrate.ts` in the image); see migrateMain.
import { migrateMain } from '@vtv/runtime';
import { settlement } from './service';

void migrateMain(settlement).then((code) => process.exit(code));
