import { CHART_RANGES } from '../lib/ranges';

interface Props {
  value: string;
  onChange: (id: string) => void;
}

/** 15 min / 1 h / 6 h / 24 h / 7 d as a segmented control (aria-pressed buttons). */
export function RangeSelector({ value, onChange }: Props) {
  return (
    <div className="segmented" role="group" aria-label="Chart range">
      {CHART_RANGES.map((r) => (
        <button
          key={r.id}
          type="button"
          data-range={r.id}
          aria-pressed={r.id === value}
          className={r.id === value ? 'active' : undefined}
          onClick={() => onChange(r.id)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );
}
