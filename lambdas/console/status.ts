// POST /console/api/index-status: a SigV4-signed GetIndex request (signed for the path /GetIndex)
// posted here instead. It runs through the real GetIndex pipeline (authenticate, validate,
// authorize), so whoever may GetIndex may see the figures and nobody else; then the read-only
// figures are added to the answer.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../core/deps';
import { makeHandler, type PipelineSteps } from '../runtime/pipeline';
import { indexFigures } from './figures';

export const STATUS_PATH = '/console/api/index-status';
const SIGNED_PATH = '/GetIndex';

function eventFor(req: IncomingMessage, body: string): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
    (multiValueHeaders[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
  }
  return {
    resource: SIGNED_PATH,
    path: SIGNED_PATH,
    httpMethod: 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body.length ? body : null,
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      httpMethod: 'POST',
      path: SIGNED_PATH,
      resourcePath: SIGNED_PATH,
      protocol: `HTTP/${req.httpVersion}`,
      stage: 'local',
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function statusHandler(deps: Deps, steps: PipelineSteps | undefined) {
  const getIndex = makeHandler('GetIndex', async () => deps, steps) as unknown as (
    event: APIGatewayProxyEvent,
    context: Context,
  ) => Promise<APIGatewayProxyResult>;
  return async (req: IncomingMessage, body: string): Promise<APIGatewayProxyResult> => {
    const result = await getIndex(eventFor(req, body), { functionName: 'local-console-status', awsRequestId: randomUUID() } as Context);
    if (result.statusCode !== 200) return result;
    const output = JSON.parse(result.body) as { index: { vectorBucketName: string; indexName: string } };
    const record = await deps.catalog.getIndex(output.index.vectorBucketName, output.index.indexName);
    // Deleted between the two reads: report what GetIndex would now say.
    if (!record) return getIndex(eventFor(req, body), { awsRequestId: randomUUID() } as Context);
    const figures = await indexFigures(deps, record);
    return { ...result, body: JSON.stringify({ ...output, figures }) };
  };
}
