// What AWS answered, as the SDK surfaces it: the error code, its status and its message.
export interface Answer {
  code: string;
  status: number | undefined;
  message: string;
  fieldList?: { path: string; message: string }[];
}

export async function answerOf(promise: Promise<unknown>): Promise<Answer> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number }; fieldList?: Answer['fieldList'] };
    return { code: e.name, status: e.$metadata?.httpStatusCode, message: e.message, ...(e.fieldList ? { fieldList: e.fieldList } : {}) };
  }
  throw new Error('expected an error, but the call succeeded');
}

/** moto's tests/test_s3vectors: every test there is @aws_verified, i.e. its assertions were recorded on AWS. */
export const MOTO = 'getmoto/moto tests/test_s3vectors';
