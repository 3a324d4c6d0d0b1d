interface Props {
  /** The choices, in order. */
  options: ReadonlyArray<{ id: string; label: string }>;
  value: string;
  onChange: (id: string) => void;
  /** Names the group for assistive technology. */
  label: string;
  /** Each button carries `data-<dataKey>="<id>"` (tests and shared links find them by it). */
  dataKey: string;
  className?: string;
}

/** A row of aria-pressed buttons, one of them active. */
export function SegmentedControl({ options, value, onChange, label, dataKey, className }: Props) {
  return (
    <div className={className ? `segmented ${className}` : 'segmented'} role="group" aria-label={label}>
      {options.map((o) => (
        <button
          key={o.id}
          type="button"
          {...{ [`data-${dataKey}`]: o.id }}
          aria-pressed={o.id === value}
          className={o.id === value ? 'active' : undefined}
          onClick={() => onChange(o.id)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
