// First import: telemetry must hook http and pg before anything loads them.
import './instrument';
import { runMain } from '@vtv/runtime';
import { careers } from './service';

void runMain(careers);
