// API Gateway's own error answers (requests that never reach a function) in the service's error format.
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { oversizeRequestMessage } from '../lambdas/runtime/payload-limits';

/**
 * API Gateway's own answers as modeled JSON errors (x-amzn-ErrorType + {"message"}), so the SDKs
 * raise a typed exception with a useful message instead of an unparsable one. A request body
 * over 10 MB never reaches a function (REQUEST_TOO_LARGE); one over Lambda's 6 MB fails the
 * invoke (INTEGRATION_FAILURE, which also covers a crashed function: the message says both).
 */
export function addGatewayResponses(api: apigateway.RestApi): void {
  const json = (message: string) => ({ 'application/json': JSON.stringify({ message }) });
  const errorType = (type: string) => ({ 'x-amzn-ErrorType': `'${type}'` });
  api.addGatewayResponse('RequestTooLarge', {
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    responseHeaders: errorType('ValidationException'),
    templates: json(oversizeRequestMessage()),
  });
  const failed = json(`The function could not be invoked or did not answer. If the request body was over about 6 MB: ${oversizeRequestMessage()}`);
  api.addGatewayResponse('IntegrationFailure', {
    type: apigateway.ResponseType.INTEGRATION_FAILURE,
    statusCode: '502',
    responseHeaders: errorType('InternalServerException'),
    templates: failed,
  });
  // Every other 5xx of API Gateway's own (an invoke Lambda throttled or refused: its status kept)
  // gets the same modeled body, not API Gateway's bare {"message": null}.
  api.addGatewayResponse('Default5xx', {
    type: apigateway.ResponseType.DEFAULT_5XX,
    responseHeaders: errorType('InternalServerException'),
    templates: failed,
  });
  api.addGatewayResponse('IntegrationTimeout', {
    type: apigateway.ResponseType.INTEGRATION_TIMEOUT,
    statusCode: '504',
    responseHeaders: errorType('RequestTimeoutException'),
    templates: json('The request timed out. Retry your request.'),
  });
}
