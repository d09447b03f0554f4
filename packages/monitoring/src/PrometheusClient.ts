/** Prometheus's HTTP API, the parts the control plane uses. */
export class PrometheusError extends Error {
  constructor(
    message: string,
    /** Prometheus answered (a bad query) rather than being unreachable. */
    readonly answered: boolean,
  ) {
    super(message);
  }
}

export interface RangeSeries {
  readonly metric: Record<string, string>;
  readonly values: [number, string][];
}

export class PrometheusClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 15_000,
  ) {}

  /** `query_range`: every series of `expr` from `start` to `end` (unix seconds) every `step` seconds. */
  async queryRange(expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    const body = new URLSearchParams({
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
      timeout: `${Math.floor(this.timeoutMs / 1000)}s`,
    });
    const json = await this.call('/api/v1/query_range', body);
    const data = json.data as { resultType: string; result: RangeSeries[] };
    if (data.resultType !== 'matrix')
      throw new PrometheusError(`unexpected result type ${data.resultType}`, true);
    return data.result;
  }

  /** Asks Prometheus to re-read its configuration and rule files (`--web.enable-lifecycle`). */
  async reload(): Promise<void> {
    const res = await this.fetch('/-/reload', { method: 'POST' });
    if (!res.ok) throw new PrometheusError(`reload answered ${res.status}: ${await res.text()}`, true);
  }

  private async call(path: string, body: URLSearchParams): Promise<{ data: unknown }> {
    const res = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = (await res.json().catch(() => ({}))) as { status?: string; error?: string; data?: unknown };
    if (json.status !== 'success')
      throw new PrometheusError(`Prometheus answered ${res.status}: ${json.error ?? 'no error text'}`, true);
    return json as { data: unknown };
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(new URL(path, this.baseUrl), {
        ...init,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new PrometheusError(
        `Prometheus at ${this.baseUrl} is unreachable: ${(err as Error).message}`,
        false,
      );
    }
  }
}
