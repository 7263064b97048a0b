/**
 * The throughput of the last hour as an inline SVG bar chart (no library):
 * one bar per point, scaled to the busiest minute, with a text summary for
 * screen readers.
 */
import type { Throughput } from '../types.js';
import { bytes } from '../format.js';

const W = 600;
const H = 120;

export function ThroughputChart({ t }: { t: Throughput }) {
  const pts = t.points;
  const max = Math.max(1, ...pts.map((p) => p.bytes));
  const total = pts.reduce((a, p) => a + p.bytes, 0);
  const files = pts.reduce((a, p) => a + p.files, 0);
  const bw = pts.length > 0 ? W / pts.length : W;
  const summary = `Last hour: ${bytes(total)} in ${files} files; busiest minute ${bytes(max === 1 && total === 0 ? 0 : max)}.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} class="axis" />
        {pts.map((p, i) => {
          const h = (p.bytes / max) * (H - 4);
          return (
            <rect key={p.at} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h} class="bar">
              <title>{`${new Date(p.at).toLocaleTimeString()}: ${bytes(p.bytes)}, ${p.files} files`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
