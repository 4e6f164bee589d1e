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
  /**
   * A rule the use case checks (not a model constraint): AWS answers these with a plain sentence
   * ("Invalid vector bucket name"); the fieldList still names the member.
   */
  static field(path: string, message: string, fieldMessage = message): ValidationError {
    return new ValidationError(message, [{ path, message: fieldMessage }]);
  }
  /**
   * One vector of PutVectors is invalid: AWS's message names its key, the fieldList entry holds the
   * bare problem (an AWS answer quoted in supabase/storage src/storage/protocols/vector/adapter/s3-vector.test.ts).
   */
  static record(path: string, key: string, problem: string): ValidationError {
    return ValidationError.field(path, Messages.invalidRecord(key, problem), problem);
  }
  /**
   * Model constraint violations, worded as AWS's Smithy server framework words them: it stops at the
   * first violation, so the message always reads "1 validation error detected. <that violation>" and
   * the fieldList holds that one entry (recorded: moto tests/test_s3vectors, e.g.
   * test_create_vector_bucket_with_invalid_length).
   */
  static constraint(problem: FieldProblem): ValidationError {
    return new ValidationError(`1 validation error detected. ${problem.message}`, [problem]);
  }
  override extraMembers(): Record<string, unknown> {
    return this.fieldList.length ? { fieldList: this.fieldList } : {};
  }
}

/** Hand-written messages in AWS's words (where recorded; see test/aws-wording for the sources). */
export const Messages = {
  bucketNotFound: 'The specified vector bucket could not be found',
  indexNotFound: 'The specified index could not be found',
  policyNotFound: 'The specified vector bucket policy could not be found',
  bucketExists: 'A vector bucket with the specified name already exists',
  indexExists: 'An index with the specified name already exists',
  bucketNotEmpty: 'The specified vector bucket is not empty',
  invalidBucketName: 'Invalid vector bucket name',
  invalidIndexName: 'Invalid index name',
  bucketNameOrArn: 'Must specify either vectorBucketName or vectorBucketArn but not both',
  indexNameOrArn: 'Must specify either indexArn or both vectorBucketName and indexName',
  /** AWS frames every problem with one vector of PutVectors this way. */
  invalidRecord: (key: string, problem: string) => `Invalid record for key '${key}': ${problem}`,
} as const;

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
