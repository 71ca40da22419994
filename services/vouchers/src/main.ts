// First import: telemetry must hook http and pg before anything loads them.
import './instrument';
import { runMain } from '@vtv/runtime';
import { vouchers } from './service';

void runMain(vouchers);
