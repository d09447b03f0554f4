import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricName, MetricScope } from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import { type PrometheusClient, type RulePolicy, renderRuleFile } from '@fjord/monitoring';
import type { Logger } from 'pino';

export const RULE_FILE = 'fjord-alarms.yml';

/**
 * Keeps Prometheus's alerting rules equal to the enabled alarm policies of live instances: renders
 * them, writes the file only when it differs, and reloads Prometheus. A deleted instance's (or a
 * disabled policy's) rules disappear on the next pass. A failed reload is tried again next pass.
 */
export class AlarmRulesSync {
  /** The rules Prometheus has confirmed loading (none yet at start, so the first pass reloads). */
  private applied: string | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly prometheus: PrometheusClient,
    private readonly rulesDir: string,
    /** Rate window of alarm expressions (several scrape intervals). */
    private readonly windowSeconds: number,
    private readonly log: Logger,
    private readonly onReload: (outcome: 'ok' | 'error') => void = () => {},
  ) {
    mkdirSync(rulesDir, { recursive: true });
  }

  /** One pass; true when the rules changed and Prometheus took them. */
  async sync(): Promise<boolean> {
    const rows = await this.prisma.alarmPolicy.findMany({
      where: { enabled: true },
      orderBy: { id: 'asc' },
    });
    const live = new Set(
      (
        await this.prisma.instance.findMany({
          where: {
            id: { in: [...new Set(rows.map((r) => r.instanceId))] },
            deletedAt: null,
            status: { notIn: ['DELETING', 'DELETED'] },
          },
          select: { id: true },
        })
      ).map((i) => i.id),
    );
    const policies: RulePolicy[] = rows
      .filter((r) => live.has(r.instanceId))
      .map((r) => ({
        id: r.id,
        accountId: r.accountId,
        instanceId: r.instanceId,
        name: r.name,
        metric: r.metric as MetricName,
        scope: r.scope as MetricScope,
        comparison: r.comparison as RulePolicy['comparison'],
        threshold: r.threshold,
        durationSeconds: r.durationSeconds,
        severity: r.severity,
      }));
    const text = renderRuleFile(policies, this.windowSeconds);
    const path = join(this.rulesDir, RULE_FILE);
    if (text === this.applied) return false;
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
    try {
      await this.prometheus.reload();
    } catch (err) {
      this.onReload('error');
      this.log.warn({ err: (err as Error).message }, 'Prometheus did not reload the alarm rules; will retry');
      return false;
    }
    this.applied = text;
    this.onReload('ok');
    this.log.info({ policies: policies.length }, 'alarm rules applied');
    return true;
  }
}
