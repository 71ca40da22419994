// Migration entry point for the Helm hook Job (`service/src/migrate.ts` in the image); see migrateMain.
import { migrateMain } from '@vtv/runtime';
import { identity } from './service';

void migrateMain(identity).then((code) => process.exit(code));
