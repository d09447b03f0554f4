import type { ActionKind, FieldChange, Plan } from './planner.js';

const SYMBOL: Record<ActionKind, string> = { create: '+', update: '~', replace: '-/+', delete: '-' };

const show = (v: unknown) => (v === undefined || v === null ? '(none)' : JSON.stringify(v));

function changeLine(c: FieldChange, kind: ActionKind): string {
  const value = (v: unknown) => (c.sensitive ? '(sensitive)' : show(v));
  const text = kind === 'create' ? value(c.to) : `${value(c.from)} → ${value(c.to)}`;
  return `      ${c.path}: ${text}${c.forcesReplacement ? '   # forces replacement' : ''}`;
}

/** What `fjord plan` prints: one block per action, then the counts (Terraform's layout). */
export function planText(plan: Plan): string {
  const lines: string[] = [];
  for (const a of plan.actions) {
    lines.push(`  ${SYMBOL[a.kind]} ${a.address} (${a.kind})`);
    for (const c of a.changes) lines.push(changeLine(c, a.kind));
  }
  if (plan.unmanaged.length > 0) {
    lines.push('', `Not in the file (kept; --prune deletes them): ${plan.unmanaged.length}`);
    for (const u of plan.unmanaged) lines.push(`    ${u}`);
  }
  const count = (k: ActionKind) => plan.actions.filter((a) => a.kind === k).length;
  lines.push(
    '',
    plan.actions.length === 0
      ? 'No changes: the live state matches the file.'
      : `Plan: ${count('create')} to create, ${count('update')} to update, ${count('replace')} to replace, ${count('delete')} to delete.`,
  );
  return lines.join('\n');
}
