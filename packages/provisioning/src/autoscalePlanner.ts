import type { AutoscalingAction } from '@fjord/contracts';

/**
 * The autoscaler's decision, pure: policy, instance, observed samples and the clock in; what to
 * resize to and why out. docs/adr/0009-autoscaling.md gives the rules; in short:
 * - scale out when a signal stayed above its target for the whole hold time;
 * - scale in only when it stayed below SCALE_IN_SHARE of the target (the gap is the hysteresis);
 * - either way size so that the peak seen lands at SETTLE_SHARE of the target, which is below the
 *   scale-out line and, by construction, no scale-in at the new size;
 * - never beyond the policy's bounds, never during the cooldown after a resize (or a refused one),
 *   never while another operation runs on the instance; an out-move wins over an in-move.
 */

/** Scale in only while utilisation stays below this share of the target. */
export const SCALE_IN_SHARE = 0.5;
/** New sizes put the peak seen at this share of the target. */
export const SETTLE_SHARE = 0.8;
/** Bandwidth specs move in steps of this many MB/s (the spec's minimum). */
export const BANDWIDTH_STEP_MBPS = 10;

const GIB = 2 ** 30;

export interface AutoscalePolicy {
  readonly enabled: boolean;
  readonly minBrokers: number;
  readonly maxBrokers: number;
  readonly minBandwidthMBps: number;
  readonly maxBandwidthMBps: number;
  readonly targetBandwidthPercent: number;
  readonly targetDiskPercent: number;
  readonly holdSeconds: number;
  readonly cooldownSeconds: number;
}

/** One observation, at unix seconds. */
export interface Sample {
  readonly at: number;
  readonly value: number;
}

export interface AutoscaleInput {
  readonly nowSeconds: number;
  readonly policy: AutoscalePolicy;
  readonly instance: {
    readonly status: string;
    readonly brokerCount: number;
    readonly bandwidthMBps: number;
    readonly diskGiB: number;
  };
  /** An unfinished operation on the instance. */
  readonly busy?: { readonly id: string; readonly kind: string } | undefined;
  /** When the instance's last resize finished (unix seconds). */
  readonly lastResizeEndedAt?: number | undefined;
  /** The autoscaler's last refused resize. */
  readonly lastRefusal?: { readonly at: number; readonly reason: string } | undefined;
  /** Samples over the hold time, `stepSeconds` apart; undefined when they could not be read. */
  readonly signals:
    | {
        /** The higher of produce-in and fetch-out, MB/s. */
        readonly bandwidthMBps: readonly Sample[];
        /** Every replica on every broker, bytes. */
        readonly diskUsedBytes: readonly Sample[];
        readonly stepSeconds: number;
      }
    | { readonly unavailable: string };
}

export interface Utilisation {
  /** Latest figure, percent of the spec. */
  readonly percent: number | null;
  /** How far back the samples reach, at most the hold time. */
  readonly heldSeconds: number;
}

export interface AutoscalePlan {
  readonly action: AutoscalingAction;
  readonly brokerCount: number;
  readonly bandwidthMBps: number;
  readonly reason: string;
  readonly observed: {
    readonly bandwidth: Utilisation & { readonly mbps: number | null };
    readonly disk: Utilisation & { readonly usedBytes: number | null; readonly specBytes: number };
  };
}

/** Where one dimension (bandwidth or broker count) wants to go, and why. */
interface Wish {
  readonly to: number;
  readonly why: string;
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));
const ceilStep = (v: number) => Math.max(1, Math.ceil(v / BANDWIDTH_STEP_MBPS - 1e-9)) * BANDWIDTH_STEP_MBPS;
const pct = (v: number) => `${Math.round(v * 10) / 10}%`;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

interface Window {
  readonly values: readonly number[];
  readonly latest: number | null;
  readonly peak: number;
  readonly heldSeconds: number;
  /** The samples reach back over the whole hold time (one step's slack). */
  readonly full: boolean;
}

function windowOf(samples: readonly Sample[], now: number, hold: number, step: number): Window {
  const inside = samples.filter((s) => s.at >= now - hold - step && s.at <= now).sort((a, b) => a.at - b.at);
  const values = inside.map((s) => s.value);
  const heldSeconds = inside.length ? Math.min(hold, now - inside[0]!.at) : 0;
  return {
    values,
    latest: inside.length ? inside[inside.length - 1]!.value : null,
    peak: values.length ? Math.max(...values) : 0,
    heldSeconds,
    full: inside.length > 0 && heldSeconds >= hold - step,
  };
}

/**
 * Where a dimension goes: `utilisation(size)` is the share of `size` a load uses; `sizeFor(load)` the
 * smallest size that puts `load` at SETTLE_SHARE of the target.
 */
function wish(
  w: Window,
  current: number,
  min: number,
  max: number,
  target: number,
  what: string,
  hold: number,
  utilisation: (load: number, size: number) => number,
  sizeFor: (load: number) => number,
): Wish {
  if (w.values.length > 0 && w.full) {
    if (w.values.every((v) => utilisation(v, current) > target)) {
      const to = clamp(sizeFor(w.peak), min, max);
      return {
        to,
        why:
          to > current
            ? `${what} above ${pct(target * 100)} for ${hold}s (peak ${pct(utilisation(w.peak, current) * 100)})`
            : `${what} above ${pct(target * 100)} for ${hold}s but the policy's maximum is ${max}`,
      };
    }
    if (w.values.every((v) => utilisation(v, current) < target * SCALE_IN_SHARE)) {
      const to = clamp(sizeFor(w.peak), min, max);
      if (to < current)
        return {
          to,
          why: `${what} below ${pct(target * SCALE_IN_SHARE * 100)} for ${hold}s (peak ${pct(utilisation(w.peak, current) * 100)})`,
        };
    }
  }
  const to = clamp(current, min, max);
  if (to !== current) return { to, why: `the policy allows ${min} to ${max}` };
  return {
    to,
    why:
      w.values.length === 0
        ? `no ${what} samples yet`
        : !w.full
          ? `${what} samples reach back ${Math.round(w.heldSeconds)}s of the ${hold}s hold time`
          : `${what} at ${pct(utilisation(w.latest ?? 0, current) * 100)}, within the target band`,
  };
}

export function planAutoscaling(input: AutoscaleInput): AutoscalePlan {
  const { policy: p, instance: ins, nowSeconds: now } = input;
  const diskBytesPerBroker = ins.diskGiB * GIB;
  const specBytes = ins.brokerCount * diskBytesPerBroker;
  const signals = 'unavailable' in input.signals ? undefined : input.signals;
  const bw = windowOf(signals?.bandwidthMBps ?? [], now, p.holdSeconds, signals?.stepSeconds ?? 0);
  const disk = windowOf(signals?.diskUsedBytes ?? [], now, p.holdSeconds, signals?.stepSeconds ?? 0);
  const observed: AutoscalePlan['observed'] = {
    bandwidth: {
      mbps: bw.latest,
      percent: bw.latest === null ? null : (100 * bw.latest) / ins.bandwidthMBps,
      heldSeconds: bw.heldSeconds,
    },
    disk: {
      usedBytes: disk.latest,
      specBytes,
      percent: disk.latest === null ? null : (100 * disk.latest) / specBytes,
      heldSeconds: disk.heldSeconds,
    },
  };
  const none = (reason: string): AutoscalePlan => ({
    action: 'none',
    brokerCount: ins.brokerCount,
    bandwidthMBps: ins.bandwidthMBps,
    reason,
    observed,
  });

  if (!p.enabled) return none('autoscaling is disabled');
  if (ins.status !== 'RUNNING') return none(`the instance is ${ins.status.toLowerCase()}`);
  if (input.busy)
    return none(`another operation is running on the instance (${input.busy.id}, ${input.busy.kind})`);
  if (input.lastResizeEndedAt !== undefined && now < input.lastResizeEndedAt + p.cooldownSeconds)
    return none(`cooldown after the last resize until ${iso(input.lastResizeEndedAt + p.cooldownSeconds)}`);
  if (input.lastRefusal && now < input.lastRefusal.at + p.cooldownSeconds)
    return none(
      `the last resize was refused (${input.lastRefusal.reason}); not retried before ${iso(input.lastRefusal.at + p.cooldownSeconds)}`,
    );
  if ('unavailable' in input.signals) return none(`utilisation cannot be read: ${input.signals.unavailable}`);

  const bandwidthTarget = p.targetBandwidthPercent / 100;
  const bandwidth = wish(
    bw,
    ins.bandwidthMBps,
    p.minBandwidthMBps,
    p.maxBandwidthMBps,
    bandwidthTarget,
    'bandwidth',
    p.holdSeconds,
    (load, size) => load / size,
    (load) => ceilStep(load / (bandwidthTarget * SETTLE_SHARE)),
  );
  const diskTarget = p.targetDiskPercent / 100;
  const brokers = wish(
    disk,
    ins.brokerCount,
    p.minBrokers,
    p.maxBrokers,
    diskTarget,
    'disk',
    p.holdSeconds,
    (load, size) => load / (size * diskBytesPerBroker),
    (load) => Math.max(1, Math.ceil(load / (diskBytesPerBroker * diskTarget * SETTLE_SHARE) - 1e-9)),
  );
  const out = bandwidth.to > ins.bandwidthMBps || brokers.to > ins.brokerCount;
  const inward = bandwidth.to < ins.bandwidthMBps || brokers.to < ins.brokerCount;
  if (!out && !inward) return none(`${bandwidth.why}; ${brokers.why}`);
  // An out-move wins; in-moves wait for a later round (after the cooldown) rather than mix.
  const keep = (w: Wish, current: number) => (out ? Math.max(w.to, current) : Math.min(w.to, current));
  const brokerCount = keep(brokers, ins.brokerCount);
  const bandwidthMBps = keep(bandwidth, ins.bandwidthMBps);
  const moves = [
    ...(brokerCount !== ins.brokerCount
      ? [`brokers ${ins.brokerCount} → ${brokerCount}: ${brokers.why}`]
      : []),
    ...(bandwidthMBps !== ins.bandwidthMBps
      ? [`bandwidth ${ins.bandwidthMBps} → ${bandwidthMBps} MB/s: ${bandwidth.why}`]
      : []),
  ];
  return {
    action: out ? 'scale_out' : 'scale_in',
    brokerCount,
    bandwidthMBps,
    reason: moves.join('; '),
    observed,
  };
}
