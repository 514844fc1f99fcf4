// Claim-check for large payloads (docs/adr/0032-s3-payload-codec.md): a PayloadCodec that puts
// every payload above a size threshold into an S3 bucket and leaves only a small reference in
// workflow history. Use the same codec in the Client and in every Worker's dataConverter
// (orchestrator and worker images), for Functions and Pipelines alike. Objects are
// content-addressed (sha256 of the stored bytes), so a retried encode writes the same key.
import { createHash } from 'node:crypto';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { lazyModule } from '../lazy-module.js';

/** Loaded when a codec is made: a worker without a payload bucket never loads the S3 SDK. */
const s3Sdk = lazyModule<typeof S3Sdk>('@aws-sdk/client-s3');

/** `metadata.encoding` of a reference payload. */
const S3_REFERENCE_ENCODING = 'binary/layer-s3-ref';

/** Configuration (parsed by the entry point's loadConfig; units in names). */
export const s3PayloadCodecConfigSchema = z.object({
  bucket: z.string().min(1).default('layer-payloads'),
  prefix: z.string().default('payloads/'),
  /** Payloads whose data is larger than this are stored in S3 (default 128 KiB). */
  thresholdBytes: z
    .number()
    .int()
    .nonnegative()
    .default(128 * 1024),
  endpoint: z.string().url().optional(),
  region: z.string().default('us-east-1'),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
  /** Path-style URLs (MinIO and other S3-compatible servers). */
  forcePathStyle: z.boolean().default(true),
  /** Create the bucket on first use (the embedded/dev default needs no setup). */
  createBucket: z.boolean().default(true),
});
export type S3PayloadCodecConfig = z.input<typeof s3PayloadCodecConfigSchema>;

export interface S3Reference {
  bucket: string;
  key: string;
  /** Bytes of the stored object. */
  size: number;
  sha256: string;
}

export class PayloadReferenceError extends Error {
  constructor(
    message: string,
    readonly reference?: S3Reference,
  ) {
    super(message);
    this.name = 'PayloadReferenceError';
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function serialize(p: Payload): Uint8Array {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    if (v) metadata[k] = Buffer.from(v).toString('base64');
  return textEncoder.encode(
    JSON.stringify({ metadata, data: p.data ? Buffer.from(p.data).toString('base64') : '' }),
  );
}

function deserialize(bytes: Uint8Array): Payload {
  const obj = JSON.parse(textDecoder.decode(bytes)) as { metadata: Record<string, string>; data: string };
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(obj.metadata)) metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(obj.data, 'base64')) };
}

/** True for a payload this codec replaced by a reference. */
export function isS3Reference(p: Payload): boolean {
  const enc = p.metadata?.encoding;
  return !!enc && textDecoder.decode(enc) === S3_REFERENCE_ENCODING;
}

/** The reference a payload holds (for tests and tooling that read raw history). */
export function readS3Reference(p: Payload): S3Reference {
  if (!isS3Reference(p) || !p.data) throw new PayloadReferenceError('payload is not an S3 reference');
  return JSON.parse(textDecoder.decode(p.data)) as S3Reference;
}

/**
 * @example
 * const codec = new S3PayloadCodec({ bucket: 'layer-payloads', endpoint: 'http://127.0.0.1:9000',
 *   accessKeyId: 'dev', secretAccessKey: 'dev-secret' });
 * const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
 */
export class S3PayloadCodec implements PayloadCodec {
  readonly config: z.output<typeof s3PayloadCodecConfigSchema>;
  readonly s3: S3Client;
  private readonly sdk = s3Sdk();
  private bucketReady: Promise<void> | undefined;

  constructor(config: S3PayloadCodecConfig, s3?: S3Client) {
    this.config = s3PayloadCodecConfigSchema.parse(config);
    const c = this.config;
    this.s3 =
      s3 ??
      new this.sdk.S3Client({
        region: c.region,
        forcePathStyle: c.forcePathStyle,
        ...(c.endpoint ? { endpoint: c.endpoint } : {}),
        ...(c.accessKeyId && c.secretAccessKey
          ? { credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } }
          : {}),
      });
  }

  private ensureBucket(): Promise<void> {
    if (!this.config.createBucket) return Promise.resolve();
    this.bucketReady ??= (async () => {
      try {
        await this.s3.send(new this.sdk.HeadBucketCommand({ Bucket: this.config.bucket }));
      } catch {
        try {
          await this.s3.send(new this.sdk.CreateBucketCommand({ Bucket: this.config.bucket }));
        } catch (err) {
          const name = (err as { name?: string }).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
        }
      }
    })().catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        if ((p.data?.byteLength ?? 0) <= this.config.thresholdBytes) return p;
        await this.ensureBucket();
        const body = serialize(p);
        const sha256 = createHash('sha256').update(body).digest('hex');
        const ref: S3Reference = {
          bucket: this.config.bucket,
          key: `${this.config.prefix}${sha256}`,
          size: body.byteLength,
          sha256,
        };
        await this.s3.send(
          new this.sdk.PutObjectCommand({
            Bucket: ref.bucket,
            Key: ref.key,
            Body: body,
            ContentType: 'application/json',
          }),
        );
        return {
          metadata: { encoding: textEncoder.encode(S3_REFERENCE_ENCODING) },
          data: textEncoder.encode(JSON.stringify(ref)),
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (p) => {
        if (!isS3Reference(p)) return p;
        const ref = readS3Reference(p);
        let bytes: Uint8Array;
        try {
          const res = await this.s3.send(new this.sdk.GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
          bytes = await res.Body!.transformToByteArray();
        } catch (err) {
          throw new PayloadReferenceError(
            `payload s3://${ref.bucket}/${ref.key} could not be read: ${(err as Error).message}`,
            ref,
          );
        }
        if (createHash('sha256').update(bytes).digest('hex') !== ref.sha256)
          throw new PayloadReferenceError(
            `payload s3://${ref.bucket}/${ref.key} does not match its sha256`,
            ref,
          );
        return deserialize(bytes);
      }),
    );
  }
}

/** A DataConverter with the S3 codec, for `new Client({ dataConverter })` and `Worker.create({ dataConverter })`. */
export function s3DataConverter(config: S3PayloadCodecConfig, s3?: S3Client): DataConverter {
  return { payloadCodecs: [new S3PayloadCodec(config, s3)] };
}
