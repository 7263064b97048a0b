/**
 * A list that renders only the rows in view (and a few around them), so that
 * tens of thousands of rows scroll as lightly as ten: rows share one height,
 * the list is a fixed-height scroll box, and spacers stand in for the rest.
 * `onNearEnd` asks for the next page when the view comes near the last row.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const OVERSCAN = 8;

export function VirtualList<T>(props: {
  rows: readonly T[];
  rowHeight: number;
  label: string;
  render: (row: T, index: number) => ComponentChildren;
  onNearEnd?: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);
  const { rows, rowHeight: rh } = props;
  const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / rh) + OVERSCAN);
  useEffect(() => {
    if (props.onNearEnd && rows.length > 0 && last >= rows.length - OVERSCAN) props.onNearEnd();
  }, [last, rows.length]);
  return (
    <div
      ref={box}
      class="vlist"
      role="list"
      aria-label={props.label}
      tabIndex={0}
      onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div style={{ height: `${rows.length * rh}px`, position: 'relative' }}>
        {rows.slice(first, last).map((row, i) => (
          <div role="listitem" class="vrow" style={{ top: `${(first + i) * rh}px`, height: `${rh}px` }} key={first + i}>
            {props.render(row, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
