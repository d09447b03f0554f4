import { spawn } from 'node:child_process';

/**
 * kcat (librdkafka, default settings: acks=all) producing numbered lines `m0`, `m1`, … one every
 * 10 ms until stopped; `stop` ends its input and waits while kcat flushes what is in flight.
 */
export function kcatProducer(bootstrap: string, topic: string) {
  const p = spawn('kcat', ['-b', bootstrap, '-t', topic, '-P'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => {
    stderr += String(d);
  });
  p.stdin.on('error', () => {}); // kcat gone early: its exit code and stderr say why
  let sent = 0;
  const timer = setInterval(() => {
    if (p.exitCode === null) p.stdin.write(`m${sent++}\n`);
  }, 10);
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return {
    get sent() {
      return sent;
    },
    async stop(): Promise<{ code: number | null; stderr: string }> {
      clearInterval(timer);
      p.stdin.end();
      return { code: await exited, stderr };
    },
  };
}
