/** Theme preference: follow the system, or force dark or light. Remembered in localStorage. */
export type ThemePref = 'system' | 'dark' | 'light';
export type Theme = 'dark' | 'light';

export const THEME_STORAGE_KEY = 'ewm.theme';
export const THEME_PREFS: readonly ThemePref[] = ['system', 'dark', 'light'];

export function parseThemePref(v: string | null | undefined): ThemePref {
  return v === 'dark' || v === 'light' ? v : 'system';
}

export function resolveTheme(pref: ThemePref, systemPrefersLight: boolean): Theme {
  if (pref === 'system') return systemPrefersLight ? 'light' : 'dark';
  return pref;
}

/** The toggle cycles system → dark → light → system. */
export function nextThemePref(pref: ThemePref): ThemePref {
  const i = THEME_PREFS.indexOf(pref);
  return THEME_PREFS[(i + 1) % THEME_PREFS.length]!;
}
