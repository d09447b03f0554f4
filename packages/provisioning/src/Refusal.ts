import type { ErrorCode } from '@fjord/contracts';

export interface RefusalIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/**
 * A change the control plane will not make, with the problem code the REST API answers with
 * (`code`) and the fields at fault. The API turns it into problem+json; the worker's autoscaler
 * records its message.
 */
export class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { readonly errors?: RefusalIssue[]; readonly operationId?: string } = {},
  ) {
    super(message);
  }
}
