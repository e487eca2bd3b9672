// A local OTLP/HTTP receiver for tests: a plain node:http server that keeps every JSON export it
// receives (traces at /v1/traces, metrics at /v1/metrics) and answers 200, as a collector does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Value = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
export type Attributes = Record<string, string | number | boolean | undefined>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Attributes;
  status: { code?: number; message?: string };
  service: string;
}

export interface ReceivedPoint {
  attributes: Attributes;
  value?: number;
  count?: number;
}

export class OtlpReceiver {
  readonly #server: Server;
  readonly bodies: { path: string; contentType: string; body: any }[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver: OtlpReceiver = new OtlpReceiver(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          receiver.bodies.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: JSON.parse(text) });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      }),
    );
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  spans(): ReceivedSpan[] {
    const out: ReceivedSpan[] = [];
    for (const { path, body } of this.bodies) {
      if (path !== '/v1/traces') continue;
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attributes(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            out.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes: attributes(s.attributes), status: s.status ?? {}, service });
          }
        }
      }
    }
    return out;
  }

  /** Every data point of a metric, across exports (the last export holds the cumulative totals). */
  metric(name: string): { kind: string; unit: string; points: ReceivedPoint[] }[] {
    const out: { kind: string; unit: string; points: ReceivedPoint[] }[] = [];
    for (const { path, body } of this.bodies) {
      if (path !== '/v1/metrics') continue;
      for (const rm of body.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            if (m.name !== name) continue;
            const kind = ['sum', 'gauge', 'histogram'].find((k) => m[k]) ?? 'unknown';
            const points = (m[kind]?.dataPoints ?? []).map((p: any) => ({
              attributes: attributes(p.attributes),
              value: p.asInt !== undefined ? Number(p.asInt) : p.asDouble,
              count: p.count !== undefined ? Number(p.count) : undefined,
            }));
            out.push({ kind, unit: m.unit, points });
          }
        }
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

function attributes(list: { key: string; value: Value }[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
  }
  return out;
}
