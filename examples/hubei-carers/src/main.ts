// First import: telemetry must hook http and pg before anything loads them.
import './instrument';
import { runMain } from '@vtv/runtime';
import { hubeiCarers } from './service';

void runMain(hubeiCarers);
