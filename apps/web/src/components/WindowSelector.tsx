import { WINDOWS } from '../lib/ranges';
import { SegmentedControl } from './SegmentedControl';

/** 5 min / 1 h / 24 h / 7 d for the map, the cards and the POP table (kept in `?window=`). */
export function WindowSelector({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  return <SegmentedControl options={WINDOWS} value={value} onChange={onChange} label="Window" dataKey="window" className="window-selector" />;
}
