/** The server alone (no built-in generator), for deployments fed by real agents. */
import { buildApp } from '../app.ts';
import { configOrExit, startFailure, stopOnSignals } from './run.ts';

const config = configOrExit();
try {
  const app = await buildApp(config);
  await app.listen({ host: config.host, port: config.port });
  stopOnSignals(async () => {
    await app.close();
    app.log.info('shutdown complete');
  }, app.log);
} catch (err) {
  startFailure(err);
}
