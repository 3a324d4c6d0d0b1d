import { useEffect, useState } from 'react';

const QUERY = '(prefers-color-scheme: light)';

/** Whether the OS asks for a light theme (the dashboard is dark by default). */
export function usePrefersLight(): boolean {
  const [light, setLight] = useState(() => globalThis.matchMedia?.(QUERY).matches ?? false);
  useEffect(() => {
    const mq = globalThis.matchMedia?.(QUERY);
    if (!mq) return;
    const onChange = () => setLight(mq.matches);
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, []);
  return light;
}
