// First import: telemetry must hook http and pg before anything loads them.
import './instrument';
import { runMain } from '@vtv/runtime';
import { training } from './service';

void runMain(training);
