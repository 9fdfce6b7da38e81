/** Small named errors, translated once at each boundary (HTTP middleware, runner). */
export class DevpieError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message failed its schema: `issues` name the fields. Never retried: it is parked. */
export class ValidationError extends DevpieError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A message type no contract knows. */
export class UnknownMessageTypeError extends DevpieError {
  constructor(readonly type: string) {
    super(`unknown message type "${type}"`);
  }
}

/** A payload over the configured limit. */
export class PayloadTooLargeError extends DevpieError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`payload of ${bytes} bytes exceeds the limit of ${limit} bytes`);
  }
}

/** An append whose expected entity version no longer holds: someone wrote first. */
export class ConcurrencyError extends DevpieError {
  constructor(
    readonly subject: string,
    readonly expectedVersion: number,
    options?: { cause?: unknown },
  ) {
    super(`entity ${subject} moved past version ${expectedVersion}`, options);
  }
}

/** Configuration that is missing or wrong; names the variable. */
export class ConfigError extends DevpieError {}
