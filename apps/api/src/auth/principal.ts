/** Who is calling, as established from a verified token. */
export type Principal =
  | { readonly kind: 'operator'; readonly id: string }
  | { readonly kind: 'root'; readonly id: string; readonly accountId: string }
  | { readonly kind: 'sub'; readonly id: string; readonly accountId: string };

/** The string written as `actor` in audit events and operations. */
export function actorOf(p: Principal): string {
  return p.kind === 'operator'
    ? `operator/${p.id}`
    : p.kind === 'root'
      ? `account/${p.id}`
      : `subaccount/${p.id}`;
}

/** Key for per-caller limits: tenants share one budget per root account. */
export function rateLimitKeyOf(p: Principal): string {
  return p.kind === 'operator' ? `operator/${p.id}` : `account/${p.accountId}`;
}
