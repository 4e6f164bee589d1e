// The handler pipeline every operation runs, in AWS and locally:
//   prepare → authenticate → decode (event → input) → validate (model + limits) → authorize → use case.
// Authentication reads only the raw event, so an unsigned request is refused before its body is read.
// Errors from any step leave through one place that writes the modeled error.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Deps } from '../core/deps';
import { InternalServerError, ServiceError } from '../core/errors';
import { operations, type Operation } from '../core/model';
import { useCases } from '../core/usecases';
import { validateInput } from '../core/validate/shape-validator';
import { limitOverrides } from '../core/validate/limit-overrides';
import { decodeInput, errorResult, successResult, type BodyParser } from './event-codec';
import { logger } from './logger';

export interface OperationContext extends Context {
  operation: Operation;
  deps: Deps;
  requestId: string;
  input: Record<string, unknown>;
  /** The body's SHA-256, being computed off the event loop (PipelineSteps.payloadHash). */
  payloadHash?: Promise<string | undefined>;
}

export type Step = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, OperationContext>;

/** Extra pipeline steps (authentication, authorization) that run between decode and the use case. */
export interface PipelineSteps {
  authenticate?: Step;
  authorize?: Step;
  /** Parses large bodies off the event loop (the local server's workers); the Lambdas parse inline. */
  parseBody?: BodyParser;
  /** Hashes large bodies off the event loop, for SigV4 (resolving to undefined: hash inline). */
  payloadHash?: (event: APIGatewayProxyEvent) => Promise<string | undefined> | undefined;
}

const prepare = (operation: Operation, loadDeps: () => Promise<Deps>, steps: PipelineSteps): Step => ({
  before: async (request) => {
    const context = request.context;
    context.operation = operation;
    context.requestId = request.event.requestContext?.requestId ?? randomUUID();
    context.payloadHash = steps.payloadHash?.(request.event);
    context.deps = await loadDeps();
  },
});

const decode = (operation: Operation, parseBody?: BodyParser): Step => ({
  before: async (request) => {
    const pending = parseBody?.(request.event);
    request.context.input = decodeInput(operation, request.event, pending && (await pending));
  },
});

const validate = (operation: Operation): Step => ({
  before: (request) => {
    const { deps, input } = request.context;
    if (operation.input) validateInput(operation.input.shape, input, limitOverrides(deps.config.limits));
  },
});

const awsErrors = (): Step => ({
  onError: (request) => {
    const error = request.error;
    const requestId = request.context.requestId ?? randomUUID();
    if (error instanceof ServiceError) {
      if (error.status >= 500) logger.error({ err: error, operation: request.context.operation?.name }, 'operation failed');
      request.response = errorResult(error, requestId);
      return;
    }
    logger.error({ err: error, operation: request.context.operation?.name, requestId }, 'unexpected error');
    request.response = errorResult(new InternalServerError(), requestId);
  },
});

export function makeHandler(operationName: string, loadDeps: () => Promise<Deps>, steps: PipelineSteps = {}) {
  const operation = operations[operationName];
  const useCase = useCases[operationName];
  if (!operation || !useCase) throw new Error(`unknown operation ${operationName}`);
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, OperationContext>()
    .use(awsErrors())
    .use(prepare(operation, loadDeps, steps));
  if (steps.authenticate) handler.use(steps.authenticate);
  handler.use(decode(operation, steps.parseBody)).use(validate(operation));
  if (steps.authorize) handler.use(steps.authorize);
  return handler.handler(async (_event, context) =>
    successResult(operation, await useCase(context.deps, context.input), context.requestId),
  );
}
