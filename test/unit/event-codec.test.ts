// decodeInput gives the same input, or the same error, whether the body was parsed inline or handed
// over already parsed (ParsedBody, from the local server's worker threads).
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { operations } from '../../lambdas/core/model';
import { decodeInput, type ParsedBody } from '../../lambdas/runtime/event-codec';

const op = operations.PutVectors;
const event = (body: string | null): APIGatewayProxyEvent => ({ body, isBase64Encoded: false, pathParameters: null, queryStringParameters: null, multiValueQueryStringParameters: null }) as APIGatewayProxyEvent;

function outcome(body: string | null, parsed?: ParsedBody): unknown {
  try {
    return { input: decodeInput(op, event(body), parsed) };
  } catch (error) {
    return { error: (error as Error).message, name: (error as { code?: string }).code };
  }
}

test.each<[string, string | null, ParsedBody]>([
  ['an object', '{"indexName":"i"}', { value: { indexName: 'i' } }],
  ['not JSON', '{"indexName"', { invalid: true }],
  ['a JSON array', '[1]', { value: null }],
  ['white space', '  \n ', { blank: true }],
])('%s: the same either way', (_name, body, parsed) => {
  expect(outcome(body, parsed)).toEqual(outcome(body));
});

test('no body is no input', () => {
  expect(outcome(null)).toEqual({ input: {} });
});
