import { destination, type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout (for Filebeat / SLS); the operator CLI (`script`) logs to stderr instead, so its
 * stdout stays what the command prints (--json). Secrets are redacted wherever they appear in a log object.
 */
export function createLogger(opts: { service: string; process: string; level: string }): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service, process: opts.process, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          '*.password',
          'secret',
          '*.secret',
          '*.jwtSecret',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'req.headers.authorization',
          'req.headers["x-service-token"]',
          '*.serviceTokens',
        ],
        censor: '[redacted]',
      },
    },
    opts.process === 'script' ? destination(2) : undefined,
  );
}
