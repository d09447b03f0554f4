import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FleetError } from '../src/FleetDriver.js';
import { freePorts, parsePortRange } from '../src/process/ports.js';

describe('broker ports from a range', () => {
  it('parses FROM-TO and refuses anything else', () => {
    expect(parsePortRange('20000-29999')).toEqual({ from: 20000, to: 29999 });
    for (const bad of ['20000', '2-1', '0-10', '1-70000', 'a-b', '100-200-300'])
      expect(() => parsePortRange(bad), bad).toThrow(FleetError);
  });

  it('picks distinct ports inside the range, skipping ports taken by brokers or bound by anyone', async () => {
    const range = { from: 26100, to: 26109 };
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(26100, '127.0.0.1', r));
    try {
      const ports = await freePorts('127.0.0.1', 7, range, new Set([26101, 26102]));
      expect(new Set(ports).size).toBe(7);
      for (const p of ports) {
        expect(p).toBeGreaterThanOrEqual(26103);
        expect(p).toBeLessThanOrEqual(26109);
      }
      await expect(freePorts('127.0.0.1', 8, range, new Set([26101, 26102]))).rejects.toThrow(
        /only 7 of 8 ports free in 26100-26109/,
      );
    } finally {
      busy.close();
    }
  });
});
