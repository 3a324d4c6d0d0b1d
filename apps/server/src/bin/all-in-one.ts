/** `npm start`: server, built-in generator and dashboard in one process. */
import { startAllInOne } from '../all-in-one.ts';
import { configOrExit, startFailure, stopOnSignals } from './run.ts';

const config = configOrExit();
try {
  const product = await startAllInOne(config);
  stopOnSignals(product.stop, product.app.log);
} catch (err) {
  startFailure(err);
}
