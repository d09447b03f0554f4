// The console's only way to the service: the public /v1 API, with a bearer token exchanged from
// an API key pair (as the CLI does) and exchanged again shortly before it expires.
import type { Problem } from '@fjord/contracts';

export type { Problem };

/** A refusal as the API worded it (problem+json), or one made up for a network failure. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface Session {
  readonly keyId: string;
  readonly secret: string;
  readonly token: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
}

/** Exchange again this long before expiry, so no request goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 60_000;
// Tab-scoped: closing the tab forgets the key pair; a reload keeps the session.
const STORAGE_KEY = 'fjord.console.session';

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (typeof body.code === 'string' && typeof body.title === 'string') return body as Problem;
  } catch {
    // not JSON: described below
  }
  return {
    type: 'about:blank',
    title: res.statusText || 'error',
    status: res.status,
    code: 'http_error',
    detail: text,
  };
}

function networkProblem(err: unknown): Problem {
  return { type: 'about:blank', title: 'network error', status: 0, code: 'network', detail: String(err) };
}

export class Api {
  private session: Session | null;
  private listeners = new Set<(s: Session | null, reason?: string) => void>();

  constructor(private readonly base = '') {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    this.session = saved ? (JSON.parse(saved) as Session) : null;
  }

  get current(): Session | null {
    return this.session;
  }

  onChange(listener: (s: Session | null, reason?: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(s: Session | null, reason?: string) {
    this.session = s;
    if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE_KEY);
    for (const l of this.listeners) l(s, reason);
  }

  private async exchange(keyId: string, secret: string): Promise<Session> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keyId, secret }),
      });
    } catch (err) {
      throw new ApiError(networkProblem(err));
    }
    if (!res.ok) throw new ApiError(await problemOf(res));
    const t = (await res.json()) as TokenAnswer;
    return { keyId, secret, token: t.accessToken, expiresAt: Date.now() + t.expiresIn * 1000 };
  }

  async signIn(keyId: string, secret: string): Promise<void> {
    this.set(await this.exchange(keyId, secret));
  }

  signOut(reason?: string): void {
    this.set(null, reason);
  }

  /** A valid token, exchanged again when close to expiry; a refused exchange signs out. */
  private async token(): Promise<string> {
    const s = this.session;
    if (!s)
      throw new ApiError({ type: 'about:blank', title: 'signed out', status: 401, code: 'unauthenticated' });
    if (s.expiresAt - Date.now() > REFRESH_MARGIN_MS) return s.token;
    try {
      const fresh = await this.exchange(s.keyId, s.secret);
      this.set(fresh);
      return fresh.token;
    } catch (err) {
      if (err instanceof ApiError && err.problem.status === 401)
        this.signOut('Your session expired: the key was refused.');
      throw err;
    }
  }

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const token = await this.token();
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiError(networkProblem(err));
    }
    if (res.status === 401) {
      this.signOut('Your session expired; sign in again.');
      throw new ApiError(await problemOf(res));
    }
    if (!res.ok) throw new ApiError(await problemOf(res));
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
}

/** `?a=1&b=x` from the defined entries. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = new Api();
