import type { Overview } from '@edgeworker/schema';
import { formatInt, formatMsValue } from '../lib/format';
import { series, type TrendPoint } from '../lib/trend';
import { StatCard } from './StatCard';

interface Props {
  overview: Overview | null;
  /** Recent overviews from the live stream, for the sparklines. */
  trend: readonly TrendPoint[];
}

function pct(part: number | undefined, total: number | undefined): string | null {
  if (!total || part === undefined) return null;
  return `${Math.round((part / total) * 100)} % of POPs`;
}

/** The seed's four headline numbers, then percentiles and status counts, each with its recent trend. */
export function OverviewCards({ overview: o, trend }: Props) {
  const windowHint = o ? `last ${o.window} · ${formatInt(o.samples)} samples` : 'loading…';
  const t = (key: string) => series(trend, key);
  return (
    <section className="overview" aria-label="Overview">
      <div className="cards cards-primary">
        <StatCard
          testId="card-total-pops"
          label="Total POPs"
          value={formatInt(o?.totalPops)}
          hint={o ? `${formatInt(o.noDataPops)} without data` : null}
          trend={t('totalPops')}
        />
        <StatCard
          testId="card-healthy-pops"
          label="Healthy POPs"
          value={formatInt(o?.healthyPops)}
          hint={pct(o?.healthyPops, o?.totalPops)}
          tone="good"
          trend={t('healthyPops')}
        />
        <StatCard
          testId="card-average-cold-start"
          label="Average cold start"
          value={formatMsValue(o?.averageColdStart)}
          unit="ms"
          hint={windowHint}
          trend={t('averageColdStart')}
        />
        <StatCard
          testId="card-regressions"
          label="Regressions"
          value={formatInt(o?.regressions)}
          // the server counts every unresolved regression alert, acknowledged ones too
          hint="open or acknowledged"
          tone={o && o.regressions > 0 ? 'critical' : 'default'}
          trend={t('regressions')}
        />
      </div>
      <div className="cards cards-secondary">
        <StatCard size="small" testId="card-p50" label="p50" value={formatMsValue(o?.p50)} unit="ms" trend={t('p50')} />
        <StatCard size="small" testId="card-p95" label="p95" value={formatMsValue(o?.p95)} unit="ms" trend={t('p95')} />
        <StatCard size="small" testId="card-p99" label="p99" value={formatMsValue(o?.p99)} unit="ms" trend={t('p99')} />
        <StatCard
          size="small"
          testId="card-warning-pops"
          label="▲ Warning POPs"
          value={formatInt(o?.warningPops)}
          tone={o && o.warningPops > 0 ? 'warning' : 'default'}
          trend={t('warningPops')}
        />
        <StatCard
          size="small"
          testId="card-critical-pops"
          label="◆ Critical POPs"
          value={formatInt(o?.criticalPops)}
          tone={o && o.criticalPops > 0 ? 'critical' : 'default'}
          trend={t('criticalPops')}
        />
      </div>
    </section>
  );
}
