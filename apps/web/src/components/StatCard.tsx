import type { ReactNode } from 'react';

interface Props {
  label: string;
  value: string;
  unit?: string;
  hint?: ReactNode;
  tone?: 'default' | 'good' | 'warning' | 'critical';
  size?: 'large' | 'small';
  testId?: string;
}

export function StatCard({ label, value, unit, hint, tone = 'default', size = 'large', testId }: Props) {
  return (
    <div className={`card card-${size} tone-${tone}`} data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className="card-value">
        {value}
        {unit && value !== '–' && <span className="card-unit"> {unit}</span>}
      </div>
      {hint && <div className="card-hint">{hint}</div>}
    </div>
  );
}
