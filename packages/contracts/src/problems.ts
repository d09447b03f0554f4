import { z } from 'zod';

/** Stable machine-readable error codes carried in every problem+json body (`code`). */
export const ERROR_CODES = {
  validation_failed: 400,
  malformed_request: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  operation_in_progress: 409,
  name_taken: 409,
  idempotency_in_progress: 409,
  precondition_failed: 412,
  precondition_required: 428,
  idempotency_key_reused: 422,
  unprocessable: 422,
  quota_exceeded: 422,
  placement_unsatisfiable: 422,
  deletion_protected: 409,
  instance_not_ready: 409,
  group_not_empty: 409,
  rate_limited: 429,
  cluster_unavailable: 502,
  not_supported_by_brokers: 501,
  service_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const FieldError = z.object({
  path: z.string().describe('JSON pointer-like path of the offending field, e.g. /spec/diskGiB'),
  message: z.string(),
  code: z.string(),
});

/** RFC 9457 problem details, with Fjord's `code` and field-level `errors`. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string(),
    requestId: z.string().optional(),
    errors: z.array(FieldError).optional(),
    operationId: z.string().optional().describe('the operation in the way, for operation_in_progress'),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;
