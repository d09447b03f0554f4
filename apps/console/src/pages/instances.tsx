import type { Instance, Operation, Zone } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';
import { go, href } from '../route';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
type Accepted = { instance: Instance; operation: Operation };

export function InstancesPage() {
  const list = useLoad(() => api.get<Page<Instance>>('/v1/instances?limit=100'), [], 5000);
  const [creating, setCreating] = useState(false);
  return (
    <section aria-labelledby="instances-title">
      <div class="title-row">
        <h1 id="instances-title">Instances</h1>
        <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          Create instance
        </button>
      </div>
      {creating ? <CreateInstance onCreated={() => list.reload()} /> : null}
      <ProblemBox error={list.error} />
      {list.data && list.data.items.length === 0 ? <p>No instances yet.</p> : null}
      {list.data?.items.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Status</th>
              <th scope="col">Health</th>
              <th scope="col">Brokers</th>
              <th scope="col">Zones</th>
              <th scope="col">Kafka</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((i) => (
              <tr key={i.id}>
                <td>
                  <a href={href('instances', i.id)}>{i.name}</a>
                </td>
                <td>
                  <code>{i.id}</code>
                </td>
                <td class={`status-${i.status}`}>{i.status}</td>
                <td>{i.health.status}</td>
                <td>{i.brokerCount}</td>
                <td>{i.zones.join(', ')}</td>
                <td>{i.kafkaVersion}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function numberOrUndefined(s: string): number | undefined {
  return s.trim() === '' ? undefined : Number(s);
}

function CreateInstance({ onCreated }: { onCreated: () => void }) {
  const zones = useLoad(() => api.get<Page<Zone>>('/v1/zones'), []);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [brokers, setBrokers] = useState('3');
  const [bandwidth, setBandwidth] = useState('');
  const [disk, setDisk] = useState('');
  const [partitions, setPartitions] = useState('');
  const [internal, setInternal] = useState('PLAINTEXT');
  const [publicRoute, setPublicRoute] = useState('SASL_SSL');
  const [error, setError] = useState<unknown>();
  const [accepted, setAccepted] = useState<Accepted>();
  const toggle = (z: string) => setChosen((c) => (c.includes(z) ? c.filter((x) => x !== z) : [...c, z]));
  return (
    <form
      class="panel"
      aria-label="Create instance"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        const spec = Object.fromEntries(
          Object.entries({
            bandwidthMBps: numberOrUndefined(bandwidth),
            diskGiB: numberOrUndefined(disk),
            partitionLimit: numberOrUndefined(partitions),
          }).filter(([, v]) => v !== undefined),
        );
        const accessRoutes = [
          { type: 'internal', securityProtocol: internal },
          ...(publicRoute === 'none' ? [] : [{ type: 'public', securityProtocol: publicRoute }]),
        ];
        try {
          const a = await api.call<Accepted>('POST', '/v1/instances', {
            name,
            zones: chosen,
            brokerCount: Number(brokers),
            spec,
            accessRoutes,
          });
          setAccepted(a);
          onCreated();
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h2>New instance</h2>
      <label>
        Name
        <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <fieldset>
        <legend>Zones</legend>
        {zones.data?.items.map((z) => (
          <label key={z.name} class="inline">
            <input type="checkbox" checked={chosen.includes(z.name)} onChange={() => toggle(z.name)} />
            {z.name}{' '}
            <small>
              ({z.used}/{z.capacity} brokers)
            </small>
          </label>
        ))}
        <ProblemBox error={zones.error} />
      </fieldset>
      <label>
        Brokers
        <input
          name="brokerCount"
          type="number"
          min={1}
          max={12}
          value={brokers}
          onInput={(e) => setBrokers(e.currentTarget.value)}
        />
      </label>
      <fieldset>
        <legend>Spec (empty: the default)</legend>
        <label>
          Bandwidth (MB/s)
          <input
            type="number"
            value={bandwidth}
            placeholder="40"
            onInput={(e) => setBandwidth(e.currentTarget.value)}
          />
        </label>
        <label>
          Disk per broker (GiB)
          <input
            type="number"
            value={disk}
            placeholder="100"
            onInput={(e) => setDisk(e.currentTarget.value)}
          />
        </label>
        <label>
          Partition limit
          <input
            type="number"
            value={partitions}
            placeholder="400"
            onInput={(e) => setPartitions(e.currentTarget.value)}
          />
        </label>
      </fieldset>
      <fieldset>
        <legend>Access routes</legend>
        <label>
          Internal (VPC) route
          <select value={internal} onChange={(e) => setInternal(e.currentTarget.value)}>
            <option>PLAINTEXT</option>
            <option>SASL_PLAINTEXT</option>
            <option>SASL_SSL</option>
          </select>
        </label>
        <label>
          Public route
          <select value={publicRoute} onChange={(e) => setPublicRoute(e.currentTarget.value)}>
            <option value="SASL_SSL">SASL_SSL (SCRAM over TLS)</option>
            <option value="none">none</option>
          </select>
        </label>
      </fieldset>
      <button type="submit">Create</button>
      <ProblemBox error={error} />
      {accepted ? (
        <div>
          <p>
            Creating <a href={href('instances', accepted.instance.id)}>{accepted.instance.name}</a> (
            <code>{accepted.instance.id}</code>)
          </p>
          <OperationProgress id={accepted.operation.id} onDone={() => onCreated()} />
          <button type="button" onClick={() => go('instances', accepted.instance.id)}>
            Open instance
          </button>
        </div>
      ) : null}
    </form>
  );
}
