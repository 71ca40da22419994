import { startTelemetry } from '@vtv/kit/telemetry';

startTelemetry('identity');
