import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { scrubText, scrubValue } from './redact';

export type { Logger };

/** Field names whose values are personal data wherever they appear in a log object. */
const REDACT_KEYS = [
  'idNumber',
  'nationalId',
  'phone',
  'mobile',
  'fullName',
  'personName',
  'pin',
  'voucherCode',
  'token',
  'password',
  'authorization',
  'cookie',
];
const REDACT_PATHS = [
  ...REDACT_KEYS,
  ...REDACT_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-vtv-internal"]',
];

export function createLogger(
  service: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: (err: unknown) => scrubValue(err), error: (err: unknown) => scrubValue(err) },
    hooks: {
      // Messages and interpolation arguments are free text: scrub them too.
      logMethod(args, method) {
        const scrubbed = args.map((a) =>
          typeof a === 'string' ? scrubText(a) : scrubValue(a),
        ) as typeof args;
        return method.apply(this, scrubbed);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
