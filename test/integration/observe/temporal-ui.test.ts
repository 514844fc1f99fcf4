// The Temporal UI the dev server serves, driven by a real headless Chromium while a Function
// runs: the workflow list filtered by our search attributes, the Function's page with its static
// summary and details and its current details (phase, pending rows, rows/s, dead letters), and
// the claim activities' summaries. Screenshots go to .layer/artifacts/temporal-ui/. Without
// Chromium the test is skipped locally and FAILS under CI=true (.ci/run installs it).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { functionWorkflowId } from '../../../packages/worker/src/contracts/names.js';
import { temporalNamespace } from '../../helpers/servers.js';
import {
  baseSpec,
  eventually,
  range,
  seedRows,
  startEngineHarness,
  startFunction,
  startPullWorker,
  statusOf,
  uniqueName,
  type EngineHarness,
  type RunningPullWorker,
} from '../function/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../../.layer/artifacts/temporal-ui');
const haveChromium = existsSync(CHROMIUM);
// CI must prove the UI: a missing browser is a failure there, never a skip.
const itWithBrowser = haveChromium || process.env.CI === 'true' ? it : it.skip;

let h: EngineHarness;
let browser: Browser | undefined;
let worker: RunningPullWorker | undefined;

beforeAll(async () => {
  h = await startEngineHarness();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await h?.close();
});

/** The page's text with the text of its frames (the UI renders summary and details in iframes). */
async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((f) => f.innerText('body').catch(() => '')));
  return texts.join('\n');
}

async function waitForText(page: Page, what: string, test: (text: string) => boolean): Promise<string> {
  return eventually(async () => pageText(page), test, 30_000, what);
}

describe('the Temporal UI in a real browser', () => {
  itWithBrowser('lists the Function by search attribute and shows what it is doing', async () => {
    if (!haveChromium)
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const ui = inject('temporalUiUrl');
    const ns = temporalNamespace();
    const storeNs = uniqueName('products');
    await seedRows(h.store, storeNs, range(1, 401));
    const spec = baseSpec(uniqueName('ui-tag'), storeNs, { k8sNamespace: 'shop' });
    // Slow enough to still be running while the browser looks; row 3 is refused (dead letter).
    worker = startPullWorker(
      h,
      spec,
      async (rows) => {
        await new Promise((r) => setTimeout(r, 1000));
        return rows.map((r) =>
          r.id === 3 ? { id: r.id, error: 'title has no words' } : { id: r.id, value: ['tag'] },
        );
      },
      2,
    );
    const { workflowId } = await startFunction(h, spec);
    expect(workflowId).toBe(functionWorkflowId('shop', spec.name));
    await eventually(
      () => statusOf(h, spec),
      (s) => s.counters.deadLettered === 1 && s.counters.processed >= 16,
      30_000,
      'rows written and one dead letter',
    );

    browser = await chromium.launch({ executablePath: CHROMIUM });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

    // The list, filtered the way a person finds Functions: our search attributes in the query.
    const query = `LayerKind = 'Function' AND LayerName = '${spec.name}'`;
    await page.goto(`${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent(query)}`);
    const list = await waitForText(page, 'the filtered list', (t) => t.includes(workflowId));
    expect(list).toContain('functionWorkflow');
    expect(list).toContain('Running');
    expect(list).toContain(`LayerName =\n"${spec.name}"`);
    await page.screenshot({ path: join(ARTIFACTS, 'workflow-list.png') });

    // The Function's page: what it is (static summary and details) and what it is doing now.
    await page.goto(`${ui}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`);
    await page.getByRole('tab', { name: 'User Metadata' }).click();
    const meta = await waitForText(
      page,
      'summary, details, current details and activity summaries',
      (t) => t.includes('rows/s') && t.includes('rows from ns'),
    );
    expect(meta).toContain(`Function shop/${spec.name} → tags@v1`);
    expect(meta).toContain(`target namespaces: ${storeNs}`);
    expect(meta).toContain('worker: pull, batch 8, timeout 10s');
    expect(meta).toMatch(
      /running — \d+ rows written, \d+ pending at the last count; on workers now: \d+ rows in \d+ batches/,
    );
    expect(meta).toMatch(/rate: [\d.]+ rows\/s/);
    expect(meta).toContain('dead-lettered rows 1');
    expect(meta).toMatch(new RegExp(`8 rows from ns ${storeNs} in 1 batch · claim \\S+-c1`));
    expect(meta).toContain(`count pending rows in ns ${storeNs}`);
    expect(meta).toContain(`dead-letter 1 row in ns ${storeNs}`);
    await page.screenshot({ path: join(ARTIFACTS, 'function-metadata.png') });

    // The event history's timeline labels each claim with its summary too.
    await page.getByRole('tab', { name: /History/ }).click();
    await waitForText(page, 'the timeline', (t) => t.includes(`rows from ns ${storeNs}`));
    await page.screenshot({ path: join(ARTIFACTS, 'function-history.png') });

    await worker.stop();
    worker = undefined;
    await h.client.workflow.getHandle(workflowId).cancel();
  });
});
