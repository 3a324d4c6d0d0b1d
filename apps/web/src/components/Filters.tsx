import { useId } from 'react';
import type { FunctionInfo, PopStatus } from '@edgeworker/schema';
import { STATUS_GLYPH, STATUS_LABEL, STATUS_ORDER } from '../lib/status';

export interface FilterValues {
  fn: string | null;
  tier: string | null;
  country: string | null;
  status: PopStatus | null;
}

interface Props {
  values: FilterValues;
  functions: readonly FunctionInfo[];
  tiers: readonly string[];
  countries: readonly string[];
  onChange: (patch: Partial<FilterValues>) => void;
}

interface SelectProps {
  label: string;
  testId: string;
  value: string | null;
  all: string;
  options: readonly { value: string; label: string }[];
  onChange: (v: string | null) => void;
}

function FilterSelect({ label, testId, value, all, options, onChange }: SelectProps) {
  const id = useId();
  // keep a value from the URL listed even before the data that offers it has loaded
  const opts = value && !options.some((o) => o.value === value) ? [...options, { value, label: value }] : options;
  return (
    <div className="filter">
      <label htmlFor={id}>{label}</label>
      <select id={id} data-testid={testId} value={value ?? ''} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">{all}</option>
        {opts.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

const STATUS_OPTIONS = [...STATUS_ORDER].reverse().map((s) => ({ value: s, label: `${STATUS_GLYPH[s]} ${STATUS_LABEL[s]}` }));

/** Function, tier, country and status filters for the map and the POP table. */
export function Filters({ values, functions, tiers, countries, onChange }: Props) {
  const active = values.fn || values.tier || values.country || values.status;
  return (
    <div className="filters" role="group" aria-label="Filters">
      <FilterSelect
        label="Function"
        testId="function-filter"
        value={values.fn}
        all="All functions"
        options={functions.map((f) => ({ value: f.name, label: f.name }))}
        onChange={(fn) => onChange({ fn })}
      />
      <FilterSelect
        label="Tier"
        testId="tier-filter"
        value={values.tier}
        all="All tiers"
        options={tiers.map((t) => ({ value: t, label: t }))}
        onChange={(tier) => onChange({ tier })}
      />
      <FilterSelect
        label="Country"
        testId="country-filter"
        value={values.country}
        all="All countries"
        options={countries.map((c) => ({ value: c, label: c }))}
        onChange={(country) => onChange({ country })}
      />
      <FilterSelect
        label="Status"
        testId="status-filter"
        value={values.status}
        all="Any status"
        options={STATUS_OPTIONS}
        onChange={(status) => onChange({ status: status as PopStatus | null })}
      />
      {active && (
        <button
          type="button"
          className="button-quiet"
          onClick={() => onChange({ fn: null, tier: null, country: null, status: null })}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}
