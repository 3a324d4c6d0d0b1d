import type { PopStatus } from '@edgeworker/schema';

interface Props {
  status: PopStatus;
  /** Nominal radius in the surrounding SVG's units. */
  r: number;
}

/**
 * One shape per status, centred on (0, 0), so status never depends on colour alone:
 * healthy ● circle, warning ▲ triangle, critical ◆ diamond inside a ring, no data ○ hollow.
 * Colours come from CSS (`.shape-<status>`).
 */
export function StatusShape({ status, r }: Props) {
  switch (status) {
    case 'healthy':
      return <circle className="shape shape-healthy" r={r} />;
    case 'warning': {
      const h = r * 1.35;
      return (
        <path
          className="shape shape-warning"
          d={`M0,${-h} L${h * 0.95},${h * 0.7} L${-h * 0.95},${h * 0.7} Z`}
        />
      );
    }
    case 'critical': {
      const d = r * 1.25;
      return (
        <>
          <circle className="shape-ring" r={r * 2} />
          <path className="shape shape-critical" d={`M0,${-d} L${d},0 L0,${d} L${-d},0 Z`} />
        </>
      );
    }
    default:
      return <circle className="shape shape-no_data" r={r * 0.85} />;
  }
}
