import { CHART_RANGES } from '../lib/ranges';
import { SegmentedControl } from './SegmentedControl';

/** 15 min / 1 h / 6 h / 24 h / 7 d for the drill-down chart. */
export function RangeSelector({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  return <SegmentedControl options={CHART_RANGES} value={value} onChange={onChange} label="Chart range" dataKey="range" />;
}
