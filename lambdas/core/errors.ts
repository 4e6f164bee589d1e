// Errors the service model declares. The wire status comes from the model's `httpStatusCode`
// (ValidationException has none there: Smithy's default for a client error is 400).

export interface FieldProblem {
  path: string;
  message: string;
}

export class ServiceError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
  /** The JSON body members beyond `message` (e.g. fieldList). */
  extraMembers(): Record<string, unknown> {
    return {};
  }
}

export class ValidationError extends ServiceError {
  constructor(
    message: string,
    readonly fieldList: FieldProblem[] = [],
  ) {
    super('ValidationException', 400, message);
  }
  /** One problem with one field: the message names the field so a user can act on it. */
  static field(path: string, message: string): ValidationError {
    return ValidationError.fields([{ path, message }]);
  }
  static fields(problems: FieldProblem[]): ValidationError {
    const n = problems.length;
    const detail = problems.map((p) => `Value at '${p.path}' failed to satisfy constraint: ${p.message}`).join('; ');
    return new ValidationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${detail}`, problems);
  }
  override extraMembers(): Record<string, unknown> {
    return this.fieldList.length ? { fieldList: this.fieldList } : {};
  }
}

export class NotFoundError extends ServiceError {
  constructor(message: string) {
    super('NotFoundException', 404, message);
  }
}

export class ConflictError extends ServiceError {
  constructor(message: string) {
    super('ConflictException', 409, message);
  }
}

export class AccessDeniedError extends ServiceError {
  constructor(message: string) {
    super('AccessDeniedException', 403, message);
  }
}

export class ServiceQuotaExceededError extends ServiceError {
  constructor(message: string) {
    super('ServiceQuotaExceededException', 402, message);
  }
}

export class InternalServerError extends ServiceError {
  constructor(message = 'We encountered an internal error. Please try again.') {
    super('InternalServerException', 500, message);
  }
}

/** Errors outside the S3 Vectors model that AWS's JSON front door answers with (auth, bad JSON). */
export class ProtocolError extends ServiceError {}
