import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly points: readonly (readonly [number, number | null])[];
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];

/** Aligns series on one time axis (uPlot's data shape): union of timestamps, null where a series has none. */
export function alignSeries(series: readonly ChartSeries[]): uPlot.AlignedData {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(times.length).fill(null);
    for (const [t, v] of s.points) col[index.get(t)!] = v;
    return col;
  });
  return [times, ...columns];
}

/** A time-series chart; its table equivalent is given by the caller for screen readers. */
export function TimeChart({
  title,
  unit,
  series,
}: {
  title: string;
  unit: string;
  series: readonly ChartSeries[];
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const plot = new uPlot(
      {
        title,
        width: Math.min(el.current.clientWidth || 800, 1100),
        height: 260,
        series: [
          {},
          ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5 })),
        ],
        axes: [{}, { label: unit, size: 70 }],
      },
      alignSeries(series),
      el.current,
    );
    return () => plot.destroy();
  }, [title, unit, series]);
  return <div ref={el} class="chart" role="img" aria-label={`${title} (${unit})`} />;
}
