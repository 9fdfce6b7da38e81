import pino from 'pino';

export type Logger = pino.Logger;

/** JSON logs (pino); `level: 'silent'` in tests that do not read them. */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: ['password', '*.password', 'passwordHash', '*.passwordHash', 'req.headers.authorization'],
  });
}
