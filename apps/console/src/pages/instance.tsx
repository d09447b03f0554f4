import type { Instance, Operation } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ConfirmButton } from '../components/confirm';
import { CopyButton } from '../components/copy';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';
import { go, href } from '../route';
import { AlarmsTab } from './alarms';
import { GroupsTab } from './groups';
import { MonitoringTab } from './monitoring';
import { OperationsList } from './operations';
import { SecurityTab } from './security';
import { TopicsTab } from './topics';

const TABS: [string, string][] = [
  ['overview', 'Overview'],
  ['topics', 'Topics'],
  ['groups', 'Consumer groups'],
  ['monitoring', 'Monitoring'],
  ['alarms', 'Alarms'],
  ['security', 'Users & ACLs'],
  ['operations', 'Operations'],
];

export function InstanceDetail({ id, tab, sub }: { id: string; tab: string; sub: string | undefined }) {
  const ins = useLoad(() => api.get<Instance>(`/v1/instances/${id}`), [id], 3000);
  const i = ins.data;
  return (
    <section aria-labelledby="instance-title">
      <p>
        <a href={href('instances')}>Instances</a> /
      </p>
      <h1 id="instance-title">
        {i?.name ?? id} {i ? <span class={`badge status-${i.status}`}>{i.status}</span> : null}{' '}
        {i ? <span class={`badge health-${i.health.status}`}>{i.health.status}</span> : null}
      </h1>
      <ProblemBox error={ins.error} />
      <nav class="tabs" aria-label="Instance">
        {TABS.map(([t, label]) => (
          <a key={t} href={href('instances', id, t)} aria-current={tab === t ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {i && tab === 'overview' ? <Overview ins={i} reload={ins.reload} /> : null}
      {tab === 'topics' ? <TopicsTab instanceId={id} topic={sub} /> : null}
      {tab === 'groups' ? <GroupsTab instanceId={id} group={sub} /> : null}
      {tab === 'monitoring' ? <MonitoringTab instanceId={id} /> : null}
      {tab === 'alarms' ? <AlarmsTab instanceId={id} /> : null}
      {tab === 'security' ? <SecurityTab instanceId={id} /> : null}
      {tab === 'operations' ? <OperationsList instanceId={id} /> : null}
    </section>
  );
}

function Overview({ ins, reload }: { ins: Instance; reload: () => void }) {
  const [op, setOp] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [brokers, setBrokers] = useState(String(ins.brokerCount));
  const [bandwidth, setBandwidth] = useState(String(ins.spec.bandwidthMBps));
  const [disk, setDisk] = useState(String(ins.spec.diskGiB));
  const [partitions, setPartitions] = useState(String(ins.spec.partitionLimit));
  // Mutations answer 202 with an operation, or 200 with the resource when nothing changes (ADR 0017).
  const act = async (f: () => Promise<{ operation?: Operation } | undefined>) => {
    setError(undefined);
    try {
      const r = await f();
      if (r?.operation) setOp(r.operation.id);
      else reload();
    } catch (err) {
      setError(err);
    }
  };
  const ifMatch = { 'if-match': `"${ins.version}"` };
  const zones = ins.zones.map((z) => ({ zone: z, brokers: ins.brokers.filter((b) => b.zone === z) }));
  return (
    <div class="grid">
      <section aria-labelledby="brokers-title" class="panel">
        <h2 id="brokers-title">Brokers by zone</h2>
        {ins.health.reason ? <p>{ins.health.reason}</p> : null}
        {zones.map(({ zone, brokers: list }) => (
          <div key={zone}>
            <h3>{zone}</h3>
            <ul class="brokers">
              {list.map((b) => (
                <li key={b.id}>
                  Broker {b.id}: {b.status}
                  {b.observed ? `, process ${b.observed}` : ''}
                  {b.restarts ? `, ${b.restarts} restarts` : ''}
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
      <section aria-labelledby="routes-title" class="panel">
        <h2 id="routes-title">Access routes</h2>
        {ins.accessRoutes.map((r) => {
          const b = ins.bootstrapServers.find((x) => x.route === r.type);
          return (
            <div key={r.type} class="route">
              <h3>
                {r.type} <small>{r.securityProtocol}</small>
              </h3>
              <p>Allowed: {r.allowedCidrs.join(', ')}</p>
              {b?.servers ? (
                <p>
                  <code class="bootstrap" data-route={r.type}>
                    {b.servers}
                  </code>{' '}
                  <CopyButton text={b.servers} label={`Copy the ${r.type} bootstrap servers`} />
                </p>
              ) : (
                <p>No bootstrap servers until brokers run.</p>
              )}
            </div>
          );
        })}
        {ins.caBundle ? (
          <p>
            CA bundle for TLS routes <CopyButton text={ins.caBundle} label="Copy the CA bundle" />
          </p>
        ) : null}
      </section>
      <section aria-labelledby="spec-title" class="panel">
        <h2 id="spec-title">Spec and size</h2>
        <dl>
          <dt>Id</dt>
          <dd>
            <code>{ins.id}</code>
          </dd>
          <dt>Kafka</dt>
          <dd>{ins.kafkaVersion}</dd>
          <dt>Default replication factor</dt>
          <dd>{ins.defaultReplicationFactor}</dd>
          <dt>Deletion protection</dt>
          <dd>{ins.deletionProtection ? 'on' : 'off'}</dd>
        </dl>
        <form
          aria-label="Resize"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() =>
              api.call(
                'POST',
                `/v1/instances/${ins.id}/resize`,
                {
                  brokerCount: Number(brokers),
                  spec: {
                    bandwidthMBps: Number(bandwidth),
                    diskGiB: Number(disk),
                    partitionLimit: Number(partitions),
                  },
                },
                ifMatch,
              ),
            );
          }}
        >
          <label>
            Brokers
            <input
              type="number"
              min={1}
              max={12}
              value={brokers}
              onInput={(e) => setBrokers(e.currentTarget.value)}
            />
          </label>
          <label>
            Bandwidth (MB/s)
            <input type="number" value={bandwidth} onInput={(e) => setBandwidth(e.currentTarget.value)} />
          </label>
          <label>
            Disk per broker (GiB)
            <input type="number" value={disk} onInput={(e) => setDisk(e.currentTarget.value)} />
          </label>
          <label>
            Partition limit
            <input type="number" value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
          </label>
          <button type="submit">Resize</button>
        </form>
        <div class="actions">
          <button
            type="button"
            onClick={() => void act(() => api.call('POST', `/v1/instances/${ins.id}/restart`))}
          >
            Rolling restart
          </button>
          <ConfirmButton
            label="Delete"
            what="instance"
            name={ins.name}
            onConfirm={() => act(() => api.call('DELETE', `/v1/instances/${ins.id}`, undefined, ifMatch))}
          />
        </div>
        <ProblemBox error={error} />
        {op ? (
          <OperationProgress
            id={op}
            onDone={(o) => {
              if (o.kind === 'instance.delete' && o.status === 'succeeded') go('instances');
              else reload();
            }}
          />
        ) : null}
      </section>
    </div>
  );
}
