/**
 * Whether a decoded response carries `code` in any `errorCode` field, at the top level or in any
 * topic, partition or other element: what Kafka's `AbstractResponse.errorCounts()` would count.
 * Kafka's brokers look for NOT_CONTROLLER this way in what the controller answers to a forwarded
 * request (BrokerToControllerChannelManager), and send it again to the next controller.
 */
export function carriesErrorCode(body: unknown, code: number): boolean {
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) return false;
  if (Array.isArray(body)) return body.some((e) => carriesErrorCode(e, code));
  for (const [key, value] of Object.entries(body)) {
    if (key === 'errorCode' && value === code) return true;
    if (typeof value === 'object' && carriesErrorCode(value, code)) return true;
  }
  return false;
}
