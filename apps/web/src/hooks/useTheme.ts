/**
 * Theme preference (system / dark / light), remembered in localStorage, applied as
 * `data-theme` on <html> so the stylesheet and the chart pick their colours from it.
 */
import { useCallback, useLayoutEffect, useState } from 'react';
import { THEME_STORAGE_KEY, parseThemePref, resolveTheme, type Theme, type ThemePref } from '../lib/theme';
import { usePrefersLight } from './usePrefersLight';

function readStored(): ThemePref {
  try {
    return parseThemePref(globalThis.localStorage?.getItem(THEME_STORAGE_KEY));
  } catch {
    return 'system'; // storage disabled (private mode): follow the system
  }
}

export function useTheme(): { pref: ThemePref; theme: Theme; setPref: (p: ThemePref) => void } {
  const [pref, setPrefState] = useState<ThemePref>(readStored);
  const theme = resolveTheme(pref, usePrefersLight());

  // a layout effect runs before any component's passive effects, so the chart (re)built
  // in one of those reads the new theme's colours
  useLayoutEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const setPref = useCallback((p: ThemePref) => {
    setPrefState(p);
    try {
      globalThis.localStorage?.setItem(THEME_STORAGE_KEY, p);
    } catch {
      // not remembered, but still applied for this visit
    }
  }, []);

  return { pref, theme, setPref };
}
