import type { ReactNode } from 'react';
import { trendChange } from '../lib/trend';
import { Sparkline } from './Sparkline';

interface Props {
  label: string;
  value: string;
  unit?: string;
  hint?: ReactNode;
  tone?: 'default' | 'good' | 'warning' | 'critical';
  size?: 'large' | 'small';
  testId?: string;
  /** Recent values, oldest first, drawn as a sparkline with the change since the first. */
  trend?: readonly (number | null)[];
}

const ARROW = { up: '↑', down: '↓', flat: '→' } as const;

export function StatCard({ label, value, unit, hint, tone = 'default', size = 'large', testId, trend }: Props) {
  const change = trend ? trendChange(trend) : null;
  return (
    <div className={`card card-${size} tone-${tone}`} data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className="card-row">
        <div className="card-value" data-testid={testId ? `${testId}-value` : undefined}>
          {value}
          {unit && value !== '–' && <span className="card-unit"> {unit}</span>}
        </div>
        {trend && (
          <div className="card-trend">
            <Sparkline values={trend} label={`${label}, recent trend`} width={size === 'small' ? 64 : 96} />
            {change && (
              <span className={`trend-change trend-${change.dir}`} title="change over the recent updates">
                {ARROW[change.dir]} {Math.abs(change.pct) < 0.5 ? '0' : Math.abs(change.pct).toFixed(Math.abs(change.pct) < 10 ? 1 : 0)} %
              </span>
            )}
          </div>
        )}
      </div>
      {hint && <div className="card-hint">{hint}</div>}
    </div>
  );
}
