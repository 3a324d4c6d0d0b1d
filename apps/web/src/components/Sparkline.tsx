import { sparklinePath } from '../lib/trend';

interface Props {
  values: readonly (number | null)[];
  /** What the line shows, for screen readers. */
  label: string;
  width?: number;
  height?: number;
}

/** A small SVG trend line of recent values; nothing until two values exist. */
export function Sparkline({ values, label, width = 96, height = 22 }: Props) {
  const d = sparklinePath(values, width, height, 2);
  if (!d) return <svg className="sparkline" width={width} height={height} aria-hidden="true" />;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={label}>
      <path d={d} />
    </svg>
  );
}
