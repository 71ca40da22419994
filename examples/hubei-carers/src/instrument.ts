import { startTelemetry } from '@vtv/kit/telemetry';

startTelemetry('hubei-carers');
