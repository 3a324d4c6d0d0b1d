import { useId } from 'react';
import type { FunctionInfo } from '@edgeworker/schema';

interface Props {
  functions: readonly FunctionInfo[];
  value: string | null;
  onChange: (fn: string | null) => void;
}

/** Narrows the map, the worst-POPs table and the drill-down chart to one function. */
export function FunctionFilter({ functions, value, onChange }: Props) {
  const id = useId();
  // keep a selected function listed even if the catalog has not loaded or no longer has it
  const names = functions.map((f) => f.name);
  const options = value && !names.includes(value) ? [...functions, { name: value, description: '' }] : functions;
  return (
    <div className="filter">
      <label htmlFor={id}>Function</label>
      <select
        id={id}
        data-testid="function-filter"
        value={value ?? ''}
        onChange={(e) => onChange(e.target.value === '' ? null : e.target.value)}
      >
        <option value="">All functions</option>
        {options.map((f) => (
          <option key={f.name} value={f.name} title={f.description}>
            {f.name}
          </option>
        ))}
      </select>
    </div>
  );
}
