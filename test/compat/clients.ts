import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The scenario verbs every driver implements; each prints one JSON line on success. */
export type CellName =
  | 'metadata'
  | 'produce-consume'
  | 'group'
  | 'restart'
  | 'admin'
  | 'configs'
  | 'idempotent'
  | 'static'
  | 'transactions'
  | 'sasl';

export interface CellDef {
  readonly id: string;
  readonly name: CellName;
  readonly codec?: string;
}

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

const securityEnv = (security?: ClientSecurity) =>
  security ? { FJORD_SECURITY: JSON.stringify(security) } : {};

// biome-ignore lint/suspicious/noExplicitAny: drivers print free-form JSON that each check inspects
export type DriverOutput = any;

export const SASL_PROTOCOLS = ['SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** How a driver authenticates; drivers read it from the FJORD_SECURITY environment variable. */
export interface ClientSecurity {
  readonly protocol: (typeof SASL_PROTOCOLS)[number];
  readonly mechanism: (typeof SASL_MECHANISMS)[number];
  readonly username: string;
  readonly password: string;
  /** CA certificate (PEM) that signed the broker's certificate, for SASL_SSL. */
  readonly ca?: string;
}

export const SECURITY_CELLS: readonly {
  id: string;
  protocol: ClientSecurity['protocol'];
  mechanism: ClientSecurity['mechanism'];
}[] = SASL_PROTOCOLS.flatMap((protocol) =>
  SASL_MECHANISMS.map((mechanism) => ({ id: `${protocol} ${mechanism}`, protocol, mechanism })),
);

export const CELLS: readonly CellDef[] = [
  { id: 'metadata', name: 'metadata' },
  ...CODECS.map((codec) => ({ id: `produce+consume ${codec}`, name: 'produce-consume' as const, codec })),
  { id: 'group of 3', name: 'group' },
  { id: 'restart+resume', name: 'restart' },
  { id: 'admin topics', name: 'admin' },
  { id: 'configs', name: 'configs' },
  { id: 'idempotent', name: 'idempotent' },
  { id: 'transactions', name: 'transactions' },
  { id: 'static member', name: 'static' },
  ...SECURITY_CELLS.map((c) => ({ id: c.id, name: 'sasl' as const })),
];

export interface CompatClient {
  readonly name: string;
  run(bootstrap: string, args: readonly string[], security?: ClientSecurity): Promise<DriverOutput>;
  /** Cells this client cannot take part in, by cell id, with the reason. */
  readonly gaps: Readonly<Record<string, string>>;
}

const here = import.meta.dirname;
const PYTHON = '/usr/bin/python3'; // Debian's Python: the one that sees python3-kafka and python3-confluent-kafka

/** Runs a driver process; resolves with its last stdout line parsed as JSON. */
export function runProcess(
  cmd: string,
  args: readonly string[],
  timeoutMs = 240_000,
  env: NodeJS.ProcessEnv = {},
): Promise<DriverOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const lines = stderr.trim().split('\n');
        // Clients often say why a login failed in a log line well before their final error.
        const auth = [...new Set(lines.filter((l) => /authenticat|sasl/i.test(l)))].slice(0, 3);
        return reject(
          new Error(`${cmd} ${args.join(' ')} exited ${code}: ${[...lines.slice(-3), ...auth].join(' | ')}`),
        );
      }
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(
          new Error(`${cmd} ${args.join(' ')} printed no JSON: ${stdout.slice(-300)} ${stderr.slice(-300)}`),
        );
      }
    });
  });
}

const NO_ADMIN = 'the client has no admin API for this';
const SARAMA_NO_TRANSACTIONS = 'sarama 1.22 has no transactional producer (it came in 1.37)';
const SARAMA_NO_STATIC = 'sarama 1.22 has no group.instance.id (static membership came in 1.31)';

/** kcat has no admin verbs; it drives produce, consume (balanced -G groups) and metadata. */
function kcatSecurity(security?: ClientSecurity): string[] {
  if (!security) return [];
  const x = (kv: string) => ['-X', kv];
  return [
    ...x(`security.protocol=${security.protocol}`),
    ...x(`sasl.mechanisms=${security.mechanism}`),
    ...x(`sasl.username=${security.username}`),
    ...x(`sasl.password=${security.password}`),
    ...(security.ca ? x(`ssl.ca.location=${security.ca}`) : []),
  ];
}

async function runKcat(
  bootstrap: string,
  args: readonly string[],
  security?: ClientSecurity,
): Promise<DriverOutput> {
  const [verb, ...rest] = args;
  const sec = kcatSecurity(security);
  if (verb === 'metadata') {
    const md = await runProcess('kcat', ['-b', bootstrap, '-L', '-J', ...sec]);
    return { brokers: md.brokers.length, topics: md.topics.map((t: { topic: string }) => t.topic) };
  }
  if (verb === 'produce') {
    const [topic, n, codec, idempotent] = rest;
    const lines = Array.from({ length: Number(n) }, (_, i) => `k${i}:v${i}`).join('\n');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('kcat', [
        '-P',
        '-b',
        bootstrap,
        '-t',
        topic!,
        '-K',
        ':',
        '-z',
        codec!,
        '-X',
        'acks=all',
        '-X',
        `enable.idempotence=${idempotent}`,
        ...sec,
      ]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) =>
        code === 0 && !/ERROR|failed/i.test(stderr)
          ? resolve()
          : reject(new Error(`kcat produce: ${code} ${stderr}`)),
      );
      child.stdin.end(`${lines}\n`);
    });
    return { acked: Number(n) };
  }
  if (verb === 'consume' || verb === 'consume-static') {
    // consume TOPIC GROUP COUNT IDLE_MS [GO_FILE] | consume-static TOPIC GROUP COUNT INSTANCE_ID SESSION_MS
    const [topic, group, n, idleOrInstance, goOrSession] = rest;
    const staticMember = verb === 'consume-static';
    const idle = staticMember ? '0' : idleOrInstance;
    const goFile = staticMember ? undefined : goOrSession;
    const membership = staticMember
      ? ['-X', `group.instance.id=${idleOrInstance}`, '-X', `session.timeout.ms=${goOrSession}`]
      : [];
    const count = Number(n);
    const idleMs = Number(idle);
    return new Promise((resolve, reject) => {
      // -u: unbuffered output, or kcat holds records in stdio buffers while piped.
      const child = spawn('kcat', [
        '-u',
        '-b',
        bootstrap,
        '-G',
        group!,
        '-f',
        '%p %o %s\n',
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'auto.commit.interval.ms=200',
        ...membership,
        ...sec,
        topic!,
      ]);
      const records: { p: number; o: number; v: string }[] = [];
      let buf = '';
      let last = Date.now();
      const started = Date.now();
      // With a go file, the idle clock starts only once the harness has created it (after producing).
      let goAt = goFile ? null : started;
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const [p, o, ...v] = buf.slice(0, nl).split(' ');
          records.push({ p: Number(p), o: Number(o), v: v.join(' ') });
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          last = Date.now();
        }
      });
      const timer = setInterval(() => {
        if (goAt === null && existsSync(goFile!)) goAt = last = Date.now();
        const done =
          count >= 0
            ? records.length >= count
            : goAt !== null && Date.now() - last > idleMs && Date.now() - goAt > idleMs;
        const gaveUp = goAt !== null ? Date.now() - goAt > 60_000 : Date.now() - started > 200_000;
        if (done || gaveUp) {
          clearInterval(timer);
          // SIGINT makes kcat close the consumer cleanly, which commits the consumed offsets.
          setTimeout(() => child.kill('SIGINT'), 500);
        }
      }, 100);
      child.on('close', () => resolve({ records }));
      child.on('error', reject);
    });
  }
  throw new Error(`kcat cannot run ${verb}`);
}

const SARAMA_DIR = join(here, '../../.tmp/sarama');
let saramaBinary: string | undefined;

/** Builds the sarama driver once per run, offline, against Debian's Go packages (GOPATH mode). */
function buildSarama(): string {
  if (saramaBinary) return saramaBinary;
  const src = join(SARAMA_DIR, 'src/fjordcompat');
  mkdirSync(src, { recursive: true });
  for (const f of ['main.go', 'scram.go']) copyFileSync(join(here, 'clients/sarama', f), join(src, f));
  const out = join(SARAMA_DIR, 'sarama-driver');
  execFileSync('go', ['build', '-o', out, '.'], {
    cwd: src,
    env: {
      ...process.env,
      GOPATH: `${SARAMA_DIR}:/usr/share/gocode`,
      GO111MODULE: 'off',
      GOPROXY: 'off',
      GOCACHE: join(SARAMA_DIR, 'cache'),
    },
    stdio: 'pipe',
  });
  if (!existsSync(out)) throw new Error('sarama driver did not build');
  saramaBinary = out;
  return out;
}

function sarama(version: string, label: string, gaps: Record<string, string>): CompatClient {
  return {
    name: `sarama 1.22 (Go) as Kafka ${label}`,
    run: (b, a, s) =>
      runProcess(buildSarama(), ['-version', version, a[0]!, b, ...a.slice(1)], 240_000, securityEnv(s)),
    gaps,
  };
}

export const CLIENTS: readonly CompatClient[] = [
  {
    name: 'confluent-kafka-python 1.7 (librdkafka)',
    run: (b, a, s) =>
      runProcess(
        PYTHON,
        [join(here, 'clients/confluent.py'), a[0]!, b, ...a.slice(1)],
        240_000,
        securityEnv(s),
      ),
    gaps: {},
  },
  {
    name: 'kafka-python 2.0',
    run: (b, a, s) =>
      runProcess(
        PYTHON,
        [join(here, 'clients/kafkapython.py'), a[0]!, b, ...a.slice(1)],
        240_000,
        securityEnv(s),
      ),
    gaps: {
      // snappy, lz4 and zstd run: infra/ensure-clients.sh installs python3-snappy, python3-lz4 and
      // python3-zstandard, the modules kafka-python's codecs import.
      idempotent: 'kafka-python 2.0 has no idempotent producer',
      transactions: 'kafka-python 2.0 has no transactional producer',
      'static member': 'kafka-python 2.0 has no group.instance.id (static membership)',
    },
  },
  {
    name: 'kcat 1.7 (librdkafka 2.0)',
    run: runKcat,
    gaps: {
      'admin topics': NO_ADMIN,
      configs: NO_ADMIN,
      transactions: 'kcat cannot abort a transaction, so it cannot show aborted data staying hidden',
    },
  },
  {
    name: '@platformatic/kafka 1.x',
    run: (b, a, s) =>
      runProcess(
        process.execPath,
        [join(here, 'clients/platformatic.mjs'), a[0]!, b, ...a.slice(1)],
        240_000,
        securityEnv(s),
      ),
    gaps: {
      'produce+consume zstd':
        'the client uses node:zlib zstd, which Node 20 lacks ("zstd is not supported in the current Node.js version")',
    },
  },
  {
    name: 'kafka-node 5 (legacy protocols)',
    run: (b, a, s) =>
      runProcess(
        process.execPath,
        [join(here, 'clients/kafkanode.cjs'), a[0]!, b, ...a.slice(1)],
        240_000,
        securityEnv(s),
      ),
    gaps: {
      'produce+consume snappy':
        "kafka-node's snappy codec needs the native snappy@6 addon, whose build script npm blocks here",
      'produce+consume lz4': 'kafka-node supports only gzip and snappy',
      'produce+consume zstd': 'kafka-node supports only gzip and snappy',
      'admin topics': 'kafka-node cannot delete topics or add partitions',
      'SASL_PLAINTEXT SCRAM-SHA-256': 'kafka-node 5 implements only SASL/PLAIN',
      'SASL_PLAINTEXT SCRAM-SHA-512': 'kafka-node 5 implements only SASL/PLAIN',
      'SASL_SSL SCRAM-SHA-256': 'kafka-node 5 implements only SASL/PLAIN',
      'SASL_SSL SCRAM-SHA-512': 'kafka-node 5 implements only SASL/PLAIN',
      configs: 'kafka-node cannot alter configs',
      idempotent: 'kafka-node has no idempotent producer',
      transactions: 'kafka-node has no transactional producer',
      'static member': 'kafka-node has no group.instance.id (static membership)',
    },
  },
  sarama('0.10.0', '0.10.0', {
    'produce+consume zstd': 'zstd needs Kafka 2.1+',
    'group of 3':
      "sarama's consumer groups need Kafka 0.10.2+ (this version commits through its offset manager instead)",
    'admin topics': 'CreateTopics arrived in Kafka 0.10.1',
    configs: 'DescribeConfigs arrived in Kafka 0.11',
    idempotent: 'idempotence arrived in Kafka 0.11',
    transactions: SARAMA_NO_TRANSACTIONS,
    'static member': SARAMA_NO_STATIC,
  }),
  sarama('1.1.0', '1.1.0', {
    'produce+consume zstd': 'zstd needs Kafka 2.1+',
    transactions: SARAMA_NO_TRANSACTIONS,
    'static member': SARAMA_NO_STATIC,
  }),
  sarama('2.2.0', '2.4.0 (sarama 1.22 knows up to 2.2.0)', {
    transactions: SARAMA_NO_TRANSACTIONS,
    'static member': SARAMA_NO_STATIC,
  }),
  {
    name: 'kafkajs 2.2',
    run: (b, a, s) =>
      runProcess(
        process.execPath,
        [join(here, 'clients/kafkajs.mjs'), a[0]!, b, ...a.slice(1)],
        240_000,
        securityEnv(s),
      ),
    gaps: {
      'produce+consume snappy': 'kafkajs ships only gzip; snappy needs a third-party codec plugin',
      'produce+consume lz4': 'kafkajs ships only gzip; lz4 needs a third-party codec plugin',
      'produce+consume zstd': 'kafkajs ships only gzip; zstd needs a third-party codec plugin',
      'static member': 'kafkajs 2.2 has no group.instance.id (static membership)',
    },
  },
];
