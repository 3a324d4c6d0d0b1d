/** The server alone (no built-in generator), for deployments fed by real agents. */
import { buildApp } from '../app.ts';
import { configOrExit, stopOnSignals } from './run.ts';

const config = configOrExit();
try {
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: config.port });
  stopOnSignals(async () => {
    await app.close();
    app.log.info('shutdown complete');
  }, app.log);
} catch (err) {
  process.stderr.write(`edgeworker: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}
