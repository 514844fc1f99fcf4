// Worker image entry point for the tag-products example. The operator sets LAYER_DISPATCH:
// `pull` polls the Function's task queue through the SDK; `push` serves POST /run.
import { createPushServer, runFunctionWorker } from '../../src/sdk/index.js';
import { tagProducts } from './handler.js';

const dispatch = process.env.LAYER_DISPATCH ?? 'pull';
if (dispatch === 'push') {
  const port = Number(process.env.LAYER_PORT ?? 8080);
  const server = createPushServer(tagProducts, {
    timeoutSeconds: Number(process.env.LAYER_TIMEOUT_SECONDS ?? 30),
  });
  await server.listen(port, '0.0.0.0');
  process.stdout.write(`tag-products push worker listening on :${port}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  process.stdout.write('tag-products pull worker polling its task queue\n');
  await runFunctionWorker({ handler: tagProducts, signal: controller.signal });
}
