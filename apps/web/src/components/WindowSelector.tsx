import { WINDOWS } from '../lib/ranges';

interface Props {
  value: string;
  onChange: (id: string) => void;
}

/** 5 min / 1 h / 24 h / 7 d for the map, the cards and the POP table (aria-pressed buttons, kept in `?window=`). */
export function WindowSelector({ value, onChange }: Props) {
  return (
    <div className="segmented window-selector" role="group" aria-label="Window">
      {WINDOWS.map((w) => (
        <button
          key={w.id}
          type="button"
          data-window={w.id}
          aria-pressed={w.id === value}
          className={w.id === value ? 'active' : undefined}
          onClick={() => onChange(w.id)}
        >
          {w.label}
        </button>
      ))}
    </div>
  );
}
