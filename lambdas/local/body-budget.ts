// A cap on request-body bytes held at once (received, parsed, handled): a flood of large bodies,
// signed or not, costs at most this much before newcomers are refused with a retryable error.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ProtocolError } from '../core/errors';
import { errorResult } from '../runtime/event-codec';

export class BodyBudget {
  private held = 0;
  constructor(readonly limit: number) {}

  /** Bytes held now. */
  get inFlight(): number {
    return this.held;
  }

  /**
   * Whether `bytes` more fit now, for a body already holding `own`. A body alone always fits, so a
   * limit below the largest body allowed never refuses that body forever.
   */
  fits(bytes: number, own = 0): boolean {
    return this.held - own <= 0 || this.held + bytes <= this.limit;
  }

  /** Holds `bytes` more for a body already holding `own`, if they fit. */
  take(bytes: number, own = 0): boolean {
    if (!this.fits(bytes, own)) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

/**
 * What the server answers past the budget. ServiceUnavailableException (503) is the model's error
 * for the service itself being short of capacity (a fault, retryable, not throttling), where
 * TooManyRequestsException (429) blames the caller's request rate, which may be one request.
 */
export function overloadedResult(): APIGatewayProxyResult {
  return errorResult(
    new ProtocolError('ServiceUnavailableException', 503, 'Service is busy receiving other requests. Please reduce your request rate and retry your request.'),
    randomUUID(),
  );
}
