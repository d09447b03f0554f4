import { ErrorCode, type ErrorCodeName } from '@fjord/protocol';

export function code(name: ErrorCodeName): number {
  return ErrorCode[name];
}
