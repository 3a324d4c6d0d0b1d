import type { ThemePref } from '../lib/theme';
import { nextThemePref } from '../lib/theme';

const LABEL: Record<ThemePref, string> = { system: 'System', dark: 'Dark', light: 'Light' };
const GLYPH: Record<ThemePref, string> = { system: '◐', dark: '☾', light: '☀' };

interface Props {
  pref: ThemePref;
  onChange: (p: ThemePref) => void;
}

/** One button cycling system → dark → light; its text says the current choice. */
export function ThemeToggle({ pref, onChange }: Props) {
  const next = nextThemePref(pref);
  return (
    <button
      type="button"
      className="theme-toggle"
      data-testid="theme-toggle"
      data-theme-pref={pref}
      onClick={() => onChange(next)}
      title={`Theme: ${LABEL[pref]} (switch to ${LABEL[next]})`}
      aria-label={`Theme: ${LABEL[pref]}. Switch to ${LABEL[next]}`}
    >
      <span aria-hidden="true">{GLYPH[pref]}</span> {LABEL[pref]}
    </button>
  );
}
