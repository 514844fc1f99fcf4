// Tracing outside Temporal, on real HTTP: when it is asked for (the environment table), the push
// path (the orchestrator's POST carries a traceparent; the push server's handler span is its
// child), the OTLP exporter (spans reach the endpoint as http/protobuf), and off meaning off.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { postToPushWorker } from '../../../src/activities/push-call.js';
import {
  otlpTracesUrl,
  startTracing,
  stopTracing,
  traceHeaders,
  tracingClientOptions,
  tracingEnabled,
  tracingRequested,
  tracingWorkerOptions,
  withSpan,
} from '../../../packages/worker/src/observe/tracing.js';
import { HANDLER_SPAN, createPushServer } from '../../../packages/worker/src/function-worker.js';

afterEach(async () => {
  await stopTracing();
});

describe('when tracing is asked for', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://otel:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_TRACES_EXPORTER: 'none' }, false],
  ])('%j → %s', (env, on) => {
    expect(tracingRequested(env)).toBe(on);
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' }, 'http://otel:4318/v1/traces'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318/' }, 'http://otel:4318/v1/traces'],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/t' },
      'http://b:9/t',
    ],
  ])('%j posts spans to %s', (env, url) => {
    expect(otlpTracesUrl(env)).toBe(url);
  });
});

describe('tracing off', () => {
  it('starts nothing and adds nothing', async () => {
    expect(await startTracing({ serviceName: 'layer-test', env: {} })).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(traceHeaders()).toEqual({});
    expect(tracingClientOptions()).toEqual({});
    // Only the sink that drops spans of runs started traced elsewhere.
    expect(Object.keys(tracingWorkerOptions({ workflows: true }))).toEqual(['sinks']);
    expect(tracingWorkerOptions({ workflows: false })).toEqual({});
    expect(await withSpan('x', {}, async () => 42)).toBe(42);
  });
});

describe('push: the handler span is a child of the calling span', () => {
  it('carries the trace over the /run POST (W3C traceparent)', async () => {
    const spans = new InMemorySpanExporter();
    await startTracing({ serviceName: 'layer-test', spanProcessor: new SimpleSpanProcessor(spans) });
    let seen: IncomingHttpHeaders | undefined;
    const server = createPushServer(async (rows) => rows.map((r) => ({ id: r.id, value: 'ok' })));
    const port = await server.listen(0, '127.0.0.1');
    try {
      const answer = await withSpan('RunActivity:runPushClaim', {}, () =>
        postToPushWorker(
          async (url, init) => {
            seen = init?.headers as IncomingHttpHeaders;
            return fetch(url, init);
          },
          `http://127.0.0.1:${port}/run`,
          {
            batchId: 'b-1',
            function: { k8sNamespace: 'shop', name: 'tag-products' },
            namespace: 'products',
            output: { attribute: 'tags', kind: 'tags', version: 'v1' },
            rows: [
              { id: 1, inputs: { title: 'a' } },
              { id: 2, inputs: { title: 'b' } },
            ],
          },
          5,
        ),
      );
      expect(answer).toEqual({
        outputs: [
          { id: 1, value: 'ok' },
          { id: 2, value: 'ok' },
        ],
      });
    } finally {
      await server.close();
    }
    const caller = spans.getFinishedSpans().find((s) => s.name === 'RunActivity:runPushClaim')!;
    const handler = spans.getFinishedSpans().find((s) => s.name === HANDLER_SPAN)!;
    expect(seen?.traceparent).toBe(`00-${caller.spanContext().traceId}-${caller.spanContext().spanId}-01`);
    expect(handler.parentSpanId).toBe(caller.spanContext().spanId);
    expect(handler.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(handler.attributes).toEqual({
      'layer.batch_id': 'b-1',
      'layer.namespace': 'products',
      'layer.rows': 2,
    });
  });
});

describe('OTLP export', () => {
  it('posts the spans as http/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces when tracing stops', async () => {
    const requests: { url?: string; type?: string; body: Buffer }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const { port } = collector.address() as AddressInfo;
    try {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` };
      expect(await startTracing({ serviceName: 'layer-test-otlp', env })).toBe(true);
      await withSpan('OperatorEvent:Function', { 'layer.name': 'tag-products' }, async () => undefined);
      await stopTracing(); // flushes the batch
    } finally {
      collector.close();
    }
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/v1/traces');
    expect(requests[0]!.type).toBe('application/x-protobuf');
    // Protobuf keeps strings as UTF-8: the span name, its attribute and the service are in there.
    const body = requests[0]!.body.toString('utf8');
    for (const text of ['OperatorEvent:Function', 'tag-products', 'layer-test-otlp'])
      expect(body).toContain(text);
  });
});
