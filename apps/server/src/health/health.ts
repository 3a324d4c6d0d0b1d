/**
 * Per-component health. Each component registers a check; /health runs them all
 * (each with a time limit) and answers 503 when a required one is down.
 */
import { redact } from '../config.ts';

export type ComponentState = 'ok' | 'degraded' | 'down' | 'off' | 'not_configured';

export interface ComponentHealth {
  status: ComponentState;
  [detail: string]: unknown;
}

export interface HealthCheck {
  name: string;
  required: boolean;
  check: () => Promise<ComponentHealth> | ComponentHealth;
}

export type HealthRegistry = ReturnType<typeof createHealthRegistry>;

const CHECK_TIMEOUT_MS = 2000;

export function createHealthRegistry() {
  const checks = new Map<string, HealthCheck>();

  async function runOne(c: HealthCheck): Promise<ComponentHealth> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ComponentHealth>((resolve) => {
      timer = setTimeout(() => resolve({ status: 'down', error: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([Promise.resolve().then(c.check), timeout]);
    } catch (err) {
      return { status: 'down', error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    register(check: HealthCheck) {
      checks.set(check.name, check);
    },
    async report() {
      const entries = await Promise.all([...checks.values()].map(async (c) => [c, await runOne(c)] as const));
      const components: Record<string, ComponentHealth & { required: boolean }> = {};
      let status: 'ok' | 'degraded' | 'down' = 'ok';
      for (const [c, h] of entries) {
        components[c.name] = { ...h, required: c.required };
        if (h.status === 'down' && c.required) status = 'down';
        else if ((h.status === 'down' || h.status === 'degraded') && status === 'ok') status = 'degraded';
      }
      // /health needs no token: no password in a URL inside an error may reach it.
      return JSON.parse(redact(JSON.stringify({ status, components }))) as { status: typeof status; components: typeof components };
    },
  };
}
