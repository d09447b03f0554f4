import { ERROR_CODES, type ErrorCode, type Problem } from '@fjord/contracts';

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/** An error the API answers with as RFC 9457 problem+json; `code` is the stable contract. */
export class ApiProblem extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail: string,
    readonly extra: {
      errors?: FieldIssue[];
      operationId?: string;
      headers?: Record<string, string>;
      /** What a 403 refused, for its audit event (the route's method and path otherwise). */
      refused?: { action: string; resource: string };
      /** What went wrong inside, for the log only (it may name internal addresses). */
      cause?: unknown;
    } = {},
  ) {
    super(detail);
    this.status = ERROR_CODES[code];
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function problemBody(
  code: ErrorCode,
  status: number,
  detail: string,
  instance: string,
  requestId: string,
  extra: { errors?: FieldIssue[]; operationId?: string } = {},
): Problem {
  return {
    type: `/v1/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance,
    code,
    requestId,
    ...(extra.errors ? { errors: extra.errors } : {}),
    ...(extra.operationId ? { operationId: extra.operationId } : {}),
  };
}

/**
 * 404 for a resource the caller cannot see. The detail names only the kind: the same answer whether
 * the id does not exist or belongs to another tenant, and never another tenant's ids or names.
 */
export const notFound = (kind: string) => new ApiProblem('not_found', `${kind} not found`);
