// Matches a request's method and raw path against the operations' URI templates from the model.
import { operations, type Operation } from '../core/model';

interface Route {
  operation: Operation;
  method: string;
  pattern: RegExp;
  labels: string[];
}

const routes: Route[] = Object.values(operations).map((operation) => {
  const labels: string[] = [];
  // Labels match one raw path segment; the ARN arrives percent-encoded, so it is one segment.
  const source = operation.http.requestUri.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
    labels.push(name);
    return '([^/]+)';
  });
  return { operation, method: operation.http.method, pattern: new RegExp(`^${source}$`), labels };
});

export interface RouteMatch {
  operation: Operation;
  /** Label values, still percent-encoded as received (API Gateway hands them over the same way). */
  pathParameters: Record<string, string>;
  resource: string;
}

export function route(method: string, rawPath: string): RouteMatch | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(rawPath);
    if (!match) continue;
    const pathParameters = Object.fromEntries(candidate.labels.map((label, i) => [label, match[i + 1]]));
    return { operation: candidate.operation, pathParameters, resource: candidate.operation.http.requestUri };
  }
  return undefined;
}
