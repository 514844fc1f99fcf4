// KEDA's external scaler gRPC interface (package `externalscaler`, pkg/scalers/externalscaler in
// kedacore/keda), as a protobuf.js descriptor so the build ships no .proto file. Field numbers are
// the wire contract: they must match KEDA's. StreamMetricSpec is left out on purpose: KEDA treats
// UNIMPLEMENTED as "no pushed metric specs" and reads GetMetricSpec instead.
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

const DESCRIPTOR = {
  nested: {
    externalscaler: {
      nested: {
        ExternalScaler: {
          methods: {
            IsActive: { requestType: 'ScaledObjectRef', responseType: 'IsActiveResponse' },
            StreamIsActive: {
              requestType: 'ScaledObjectRef',
              responseType: 'IsActiveResponse',
              responseStream: true,
            },
            GetMetricSpec: { requestType: 'ScaledObjectRef', responseType: 'GetMetricSpecResponse' },
            GetMetrics: { requestType: 'GetMetricsRequest', responseType: 'GetMetricsResponse' },
          },
        },
        ScaledObjectRef: {
          fields: {
            name: { type: 'string', id: 1 },
            namespace: { type: 'string', id: 2 },
            scalerMetadata: { keyType: 'string', type: 'string', id: 3 },
          },
        },
        IsActiveResponse: { fields: { result: { type: 'bool', id: 1 } } },
        GetMetricSpecResponse: { fields: { metricSpecs: { rule: 'repeated', type: 'MetricSpec', id: 1 } } },
        MetricSpec: {
          fields: {
            metricName: { type: 'string', id: 1 },
            targetSize: { type: 'int64', id: 2 },
            targetSizeFloat: { type: 'double', id: 3 },
          },
        },
        GetMetricsRequest: {
          fields: {
            scaledObjectRef: { type: 'ScaledObjectRef', id: 1 },
            metricName: { type: 'string', id: 2 },
          },
        },
        GetMetricsResponse: { fields: { metricValues: { rule: 'repeated', type: 'MetricValue', id: 1 } } },
        MetricValue: {
          fields: {
            metricName: { type: 'string', id: 1 },
            metricValue: { type: 'int64', id: 2 },
            metricValueFloat: { type: 'double', id: 3 },
          },
        },
      },
    },
  },
};

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
export interface IsActiveResponse {
  result: boolean;
}
export interface MetricSpec {
  metricName: string;
  targetSize: number;
  targetSizeFloat: number;
}
export interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef;
  metricName: string;
}
export interface MetricValue {
  metricName: string;
  metricValue: number;
  metricValueFloat: number;
}

/** The ExternalScaler service for `server.addService` (and `makeGenericClientConstructor` in tests). */
export function externalScalerService(): ServiceDefinition {
  const pkg = loadPackageDefinition(
    // protobuf.js's typings mark `comment` required and omit map fields' `keyType`, both valid JSON.
    fromJSON(DESCRIPTOR as unknown as Parameters<typeof fromJSON>[0], {
      keepCase: true,
      longs: Number,
      defaults: true,
      objects: true,
    }),
  ) as unknown as { externalscaler: { ExternalScaler: { service: ServiceDefinition } } };
  return pkg.externalscaler.ExternalScaler.service;
}
