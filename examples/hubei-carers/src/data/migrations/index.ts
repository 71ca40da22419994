import { KitTables1732200000000 } from '@vtv/kit';
import { Init1795316028629 } from './1795316028629-Init';

export const migrations = [KitTables1732200000000, Init1795316028629];
