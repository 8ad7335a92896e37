import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; secrets that could reach a log line are redacted by path. */
export function createLogger(level: string, name = 'confab'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        '*.password',
        '*.key',
        '*.token',
        '*.refreshToken',
        '*.accessToken',
        'variables.input.password',
        'variables.input.key',
      ],
      censor: '[redacted]',
    },
  });
}
